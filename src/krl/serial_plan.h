// How a CA's revoked serials are written: which runs of serials go into a
// serial list, a range or a bitmap subsection.
//
// ssh-keygen chooses greedily, run by run, with an estimate of the cost of
// each choice. This plan is exact and optimal instead: a dynamic program
// over the runs (maximal ranges of consecutive revoked serials) that gives
// the smallest encoding in which every subsection holds whole runs. Every
// encoding ssh-keygen can write is one of those (it never splits a run), so
// keyward's KRL is never larger than ssh-keygen's for the same serials;
// except that no bitmap here spans more than kMaxBitmapBits serials, the
// most OpenSSH can read back (ssh-keygen 9.2 writes larger ones, which it
// then refuses to load: "bignum is too large").
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "krl/krl.h"
#include "wire/writer.h"

namespace keyward::krl {

struct PlannedSubsection {
  std::uint8_t type = 0;  // kSubsectionSerialList, ...Range or ...Bitmap
  std::size_t begin = 0;  // runs [begin, end)
  std::size_t end = 0;
};

// `runs` must be normalized (NormalizeSerials). Linear time: 8 sliding
// window minima stand in for the quadratic choice of where a bitmap starts.
std::vector<PlannedSubsection> PlanSerialSubsections(std::span<const SerialRange> runs);

// The encoded size of one subsection (type byte, length and contents), or
// nullopt-like UINT64_MAX when that subsection cannot hold those runs.
std::uint64_t SubsectionBytes(std::uint8_t type, std::span<const SerialRange> runs);

// Appends the subsections of the plan (type byte and string each).
void WriteSerialSubsections(std::span<const SerialRange> runs, const std::vector<PlannedSubsection>& plan,
                            wire::Writer& out);

}  // namespace keyward::krl
