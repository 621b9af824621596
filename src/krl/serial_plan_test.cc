// The serial subsections: the plan is optimal (checked against a plain
// quadratic search over every grouping of runs), what is written has the
// size the plan says, reads back as the same serials, and no bitmap is
// larger than OpenSSH can read.
#include "krl/serial_plan.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "krl/encode.h"
#include "krl/parse.h"

namespace keyward::krl {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::uint64_t PlanBytes(std::span<const SerialRange> runs, const std::vector<PlannedSubsection>& plan) {
  std::uint64_t total = 0;
  for (const auto& p : plan) total += SubsectionBytes(p.type, runs.subspan(p.begin, p.end - p.begin));
  return total;
}

// The smallest encoding by exhaustive dynamic programming over where each
// subsection ends and what it is.
std::uint64_t OptimalBytes(std::span<const SerialRange> runs) {
  const std::size_t n = runs.size();
  std::vector<std::uint64_t> best(n + 1, kMax);
  best[0] = 0;
  for (std::size_t k = 1; k <= n; ++k) {
    for (std::size_t j = 0; j < k; ++j) {
      for (std::uint8_t type : {kSubsectionSerialList, kSubsectionSerialRange, kSubsectionSerialBitmap}) {
        std::uint64_t c = SubsectionBytes(type, runs.subspan(j, k - j));
        if (c != kMax && best[j] + c < best[k]) best[k] = best[j] + c;
      }
    }
  }
  return best[n];
}

std::vector<SerialRange> RandomRuns(std::mt19937_64& rng, std::size_t n, std::uint64_t max_gap, std::uint64_t max_len,
                                    std::uint64_t start) {
  std::vector<SerialRange> runs;
  std::uint64_t at = start;
  for (std::size_t i = 0; i < n; ++i) {
    at += 2 + rng() % max_gap;  // at least one serial between runs
    std::uint64_t len = 1 + rng() % max_len;
    runs.push_back({at, at + len - 1});
    at += len - 1;
  }
  return runs;
}

// Encodes the runs under one CA and reads them back.
std::vector<SerialRange> RoundTrip(const std::vector<SerialRange>& runs, std::size_t* bytes = nullptr) {
  Krl krl;
  krl.certificates.push_back({Bytes{}, runs, {}});
  auto encoded = EncodeKrl(krl);
  EXPECT_TRUE(encoded.has_value());
  if (!encoded) return {};
  if (bytes != nullptr) *bytes = encoded->size();
  auto back = ParseKrl(*encoded);
  EXPECT_TRUE(back.has_value()) << back.error().message;
  if (!back || back->certificates.empty()) return {};
  return back->certificates[0].serials;
}

TEST(SerialPlan, IsOptimalOnRandomRuns) {
  std::mt19937_64 rng(20261121);
  for (int round = 0; round < 300; ++round) {
    const std::size_t n = 1 + rng() % 40;
    const std::uint64_t gap = 1 + rng() % (round % 3 == 0 ? 4 : round % 3 == 1 ? 60 : 3000);
    const std::uint64_t len = 1 + rng() % (round % 2 == 0 ? 3 : 40);
    auto runs = RandomRuns(rng, n, gap, len, rng() % 1000);
    auto plan = PlanSerialSubsections(runs);
    ASSERT_EQ(PlanBytes(runs, plan), OptimalBytes(runs)) << "round " << round;
    // The plan covers every run once, in order.
    std::size_t next = 0;
    for (const auto& p : plan) {
      ASSERT_EQ(p.begin, next);
      ASSERT_LT(p.begin, p.end);
      next = p.end;
    }
    ASSERT_EQ(next, runs.size());
  }
}

TEST(SerialPlan, WrittenSizeIsThePlannedSizeAndReadsBack) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    auto runs = RandomRuns(rng, 1 + rng() % 200, 1 + rng() % 100, 1 + rng() % 20, 1);
    std::size_t bytes = 0;
    EXPECT_EQ(RoundTrip(runs, &bytes), runs);
    // Header (8 magic + 4 + 3 * 8 + 4 + 4) and the section framing (1 + 4,
    // the empty CA key and reserved strings 4 + 4).
    const std::uint64_t fixed = 44 + 5 + 8;
    EXPECT_EQ(bytes, fixed + PlanBytes(runs, PlanSerialSubsections(runs)));
  }
}

TEST(SerialPlan, ChoosesListRangeAndBitmapWhereEachIsSmallest) {
  // One serial: a list of one (13 bytes) beats a range (21) and a bitmap (18).
  std::vector<SerialRange> one{{42, 42}};
  auto plan = PlanSerialSubsections(one);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].type, kSubsectionSerialList);

  // A long run: a range.
  std::vector<SerialRange> run{{1000, 900000}};
  plan = PlanSerialSubsections(run);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].type, kSubsectionSerialRange);

  // Every other serial over 100: a bitmap (31 bytes) rather than 50 list
  // entries (405 bytes).
  std::vector<SerialRange> alternate;
  for (std::uint64_t s = 100; s < 200; s += 2) alternate.push_back({s, s});
  plan = PlanSerialSubsections(alternate);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].type, kSubsectionSerialBitmap);
  EXPECT_EQ(PlanBytes(alternate, plan), 18u + 99 / 8);
}

TEST(SerialPlan, TheStripeKrl1SerialsTakeTheSameSubsectionsAsSshKeygen) {
  // krl1.krl: 42 and 4469 in a list, 8000-10000 a range, the even serials
  // 25970..25990 a bitmap; ssh-keygen wrote 62 bytes of subsections.
  std::vector<SerialRange> runs{{42, 42}, {4469, 4469}, {8000, 10000}};
  for (std::uint64_t s = 25970; s <= 25990; s += 2) runs.push_back({s, s});
  auto plan = PlanSerialSubsections(runs);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].type, kSubsectionSerialList);
  EXPECT_EQ(plan[1].type, kSubsectionSerialRange);
  EXPECT_EQ(plan[2].type, kSubsectionSerialBitmap);
  EXPECT_EQ(PlanBytes(runs, plan), 62u);
}

TEST(SerialPlan, NoBitmapSpansMoreThanOpenSshReads) {
  // 100000 alternate serials: one bitmap would be smallest, but OpenSSH
  // reads bitmaps of at most 16384 bits (ssh-keygen 9.2 writes a larger one
  // here, then refuses to load it).
  std::vector<SerialRange> runs;
  for (std::uint64_t s = 1; s < 200000; s += 2) runs.push_back({s, s});
  auto plan = PlanSerialSubsections(runs);
  EXPECT_GT(plan.size(), 1u);
  for (const auto& p : plan) {
    if (p.type == kSubsectionSerialBitmap) {
      EXPECT_LT(runs[p.end - 1].last - runs[p.begin].first, kMaxBitmapBits);
    }
  }
  EXPECT_EQ(RoundTrip(runs), runs);
}

TEST(SerialPlan, SerialsAtTheTopOfTheSpaceRoundTrip) {
  std::vector<SerialRange> top{{kMax - 40, kMax - 38}, {kMax - 20, kMax - 20}, {kMax - 3, kMax}};
  EXPECT_EQ(RoundTrip(top), top);
  std::vector<SerialRange> all{{1, kMax}};
  EXPECT_EQ(RoundTrip(all), all);
  auto plan = PlanSerialSubsections(all);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].type, kSubsectionSerialRange);
}

TEST(SerialPlan, EmptyInputHasAnEmptyPlan) { EXPECT_TRUE(PlanSerialSubsections({}).empty()); }

TEST(SerialPlan, SubsectionBytesRefusesWhatCannotBeWritten) {
  std::vector<SerialRange> two{{1, 1}, {3, 3}};
  EXPECT_EQ(SubsectionBytes(kSubsectionSerialRange, two), kMax);  // a range holds one run
  std::vector<SerialRange> wide{{1, 1}, {1 + kMaxBitmapBits, 1 + kMaxBitmapBits}};
  EXPECT_EQ(SubsectionBytes(kSubsectionSerialBitmap, wide), kMax);
  std::vector<SerialRange> fits{{1, 1}, {kMaxBitmapBits, kMaxBitmapBits}};
  EXPECT_EQ(SubsectionBytes(kSubsectionSerialBitmap, fits), 18u + kMaxBitmapBits / 8);
  EXPECT_EQ(SubsectionBytes(kSubsectionKeyId, fits), kMax);
}

}  // namespace
}  // namespace keyward::krl
