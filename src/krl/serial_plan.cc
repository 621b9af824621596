#include "krl/serial_plan.h"

#include <algorithm>
#include <array>
#include <deque>
#include <limits>

namespace keyward::krl {

namespace {

constexpr std::uint64_t kInfinite = std::numeric_limits<std::uint64_t>::max();

// Sizes in bytes: a subsection is a type byte and a length-prefixed string.
constexpr std::uint64_t kFraming = 1 + 4;
constexpr std::uint64_t kRangeBytes = kFraming + 8 + 8;
// Bitmap: offset, then an mpint of span bits. The highest bit is always
// set (the last serial is revoked), so the mpint needs a zero byte in front
// exactly when span is a multiple of 8: span / 8 + 1 bytes in every case.
constexpr std::uint64_t kBitmapBase = kFraming + 8 + 4 + 1;
// Beyond this many serials in one run, a list is never worth considering
// (and the cost would overflow).
constexpr std::uint64_t kMaxListRun = std::uint64_t{1} << 40;

std::uint64_t RunLength(const SerialRange& r) { return r.last - r.first + 1; }  // wraps to 0 for the full space

std::uint64_t ListCost(const SerialRange& r) {
  std::uint64_t n = RunLength(r);
  return n == 0 || n > kMaxListRun ? kInfinite : 8 * n;
}

}  // namespace

std::uint64_t SubsectionBytes(std::uint8_t type, std::span<const SerialRange> runs) {
  if (runs.empty()) return kInfinite;
  switch (type) {
    case kSubsectionSerialRange:
      return runs.size() == 1 ? kRangeBytes : kInfinite;
    case kSubsectionSerialList: {
      std::uint64_t total = kFraming;
      for (const auto& r : runs) {
        std::uint64_t c = ListCost(r);
        if (c == kInfinite || total > kInfinite - c) return kInfinite;
        total += c;
      }
      return total;
    }
    case kSubsectionSerialBitmap: {
      std::uint64_t span_minus_1 = runs.back().last - runs.front().first;
      if (span_minus_1 >= kMaxBitmapBits) return kInfinite;
      return kBitmapBase + (span_minus_1 + 1) / 8;
    }
    default:
      return kInfinite;
  }
}

std::vector<PlannedSubsection> PlanSerialSubsections(std::span<const SerialRange> runs) {
  const std::size_t n = runs.size();
  // best[k]: the smallest encoding of runs [0, k). choice[k]: its last
  // subsection.
  std::vector<std::uint64_t> best(n + 1, kInfinite);
  std::vector<PlannedSubsection> choice(n + 1);
  best[0] = 0;

  // A list absorbs runs one after another: list_cost is the best encoding
  // of [0, j) whose last subsection is a list, list_start where that list
  // starts.
  std::uint64_t list_cost = kInfinite;
  std::size_t list_start = 0;

  // A bitmap over runs [i, j] costs best[i] + kBitmapBase + floor(S / 8)
  // with S = last_j + 1 - first_i. Writing first_i = 8 q + r and
  // last_j + 1 = 8 h + t, floor(S / 8) = h - q - (r > t ? 1 : 0): for each
  // remainder r, the best start is the one with the least best[i] - q among
  // those still in reach (S <= kMaxBitmapBits), a sliding window minimum.
  struct Candidate {
    std::size_t run;
    std::int64_t value;  // best[run] - q
  };
  std::array<std::deque<Candidate>, 8> windows;

  for (std::size_t j = 0; j < n; ++j) {
    const SerialRange& run = runs[j];

    // Run j may start a bitmap.
    if (best[j] != kInfinite) {
      const std::uint64_t first = run.first;
      const std::int64_t value = static_cast<std::int64_t>(best[j]) - static_cast<std::int64_t>(first >> 3);
      auto& w = windows[first & 7];
      while (!w.empty() && w.back().value >= value) w.pop_back();
      w.push_back({j, value});
    }

    // A range of run j alone.
    if (best[j] != kInfinite && best[j] + kRangeBytes < best[j + 1]) {
      best[j + 1] = best[j] + kRangeBytes;
      choice[j + 1] = {kSubsectionSerialRange, j, j + 1};
    }

    // A list that ends with run j: a new one, or the one before grown.
    const std::uint64_t own = ListCost(run);
    if (own != kInfinite) {
      std::uint64_t fresh = best[j] == kInfinite ? kInfinite : best[j] + kFraming;
      if (fresh <= list_cost) {
        list_cost = fresh;
        list_start = j;
      }
      list_cost = list_cost == kInfinite ? kInfinite : list_cost + own;
    } else {
      list_cost = kInfinite;
    }
    if (list_cost < best[j + 1]) {
      best[j + 1] = list_cost;
      choice[j + 1] = {kSubsectionSerialList, list_start, j + 1};
    }

    // A bitmap that ends with run j.
    const std::uint64_t last = run.last;
    const std::int64_t h = static_cast<std::int64_t>((last >> 3) + ((last & 7) == 7 ? 1 : 0));
    const std::uint64_t t = (last + 1) & 7;  // wraps to 0 at the top of the serial space, as it should
    std::uint64_t bitmap_best = kInfinite;
    std::size_t bitmap_start = 0;
    for (std::uint64_t r = 0; r < 8; ++r) {
      auto& w = windows[r];
      while (!w.empty() && last - runs[w.front().run].first >= kMaxBitmapBits) w.pop_front();
      if (w.empty()) continue;
      const std::int64_t cost = w.front().value + h - (r > t ? 1 : 0) + static_cast<std::int64_t>(kBitmapBase);
      if (static_cast<std::uint64_t>(cost) < bitmap_best) {
        bitmap_best = static_cast<std::uint64_t>(cost);
        bitmap_start = w.front().run;
      }
    }
    if (bitmap_best < best[j + 1]) {
      best[j + 1] = bitmap_best;
      choice[j + 1] = {kSubsectionSerialBitmap, bitmap_start, j + 1};
    }
  }

  std::vector<PlannedSubsection> plan;
  for (std::size_t k = n; k > 0; k = choice[k].begin) plan.push_back(choice[k]);
  std::reverse(plan.begin(), plan.end());
  return plan;
}

void WriteSerialSubsections(std::span<const SerialRange> runs, const std::vector<PlannedSubsection>& plan,
                            wire::Writer& out) {
  for (const auto& p : plan) {
    std::span<const SerialRange> group = runs.subspan(p.begin, p.end - p.begin);
    wire::Writer body;
    switch (p.type) {
      case kSubsectionSerialList:
        for (const auto& r : group) {
          for (std::uint64_t s = r.first;; ++s) {
            body.U64(s);
            if (s == r.last) break;
          }
        }
        break;
      case kSubsectionSerialRange:
        body.U64(group.front().first);
        body.U64(group.front().last);
        break;
      case kSubsectionSerialBitmap: {
        const std::uint64_t base = group.front().first;
        const std::uint64_t span = group.back().last - base + 1;
        Bytes magnitude((span + 7) / 8, 0);
        for (const auto& r : group) {
          for (std::uint64_t bit = r.first - base; bit <= r.last - base; ++bit) {
            magnitude[magnitude.size() - 1 - bit / 8] |= static_cast<std::uint8_t>(1u << (bit % 8));
          }
        }
        body.U64(base);
        body.MPInt(magnitude);
        break;
      }
      default:
        break;
    }
    out.U8(p.type);
    out.String(body.bytes());
  }
}

}  // namespace keyward::krl
