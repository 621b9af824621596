// How fast keyward builds, reads and checks a large KRL (issue 5):
//
//   BM_BuildKrl     1,000,000 revoked serials under one CA (mixed: dense
//                   ranges, medium-density regions written as bitmaps,
//                   sparse single serials) and 100,000 revoked Ed25519
//                   keys: collect (KrlBuilder), normalize, plan the serial
//                   subsections and encode. Target: under 2 s.
//   BM_ParseKrl     read that KRL back (ParseKrl): what `keyward krl check`
//                   does before its lookup.
//   BM_IsRevoked    one certificate and one key looked up in the parsed KRL.
//
// The serials and keys are the same as bench/krl_vs_sshkeygen.sh feeds to
// ssh-keygen -k and keyward krl build (MixedSerials below and make_spec in
// the script follow the same recipe, seeded alike only in spirit: the
// script's numbers come from its own run). Ed25519 keys are SHA-256 of
// their index: OpenSSH and keyward check only the length of an Ed25519 key.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "key/crypto.h"
#include "key/public_key.h"
#include "krl/check.h"
#include "krl/encode.h"
#include "krl/krl.h"
#include "krl/parse.h"
#include "wire/writer.h"

namespace {

using namespace keyward;

constexpr std::size_t kSerials = 1'000'000;
constexpr std::size_t kKeys = 100'000;

// Serial runs, in order: 500,000 serials in dense ranges of 1,000 to
// 4,000, 300,000 in medium regions (about 3 in 8 serials of 8,000-serial
// windows revoked), 200,000 sparse single serials 2 to 1,000 apart; the
// three kinds interleaved along the serial space.
std::vector<krl::SerialRange> MixedSerials() {
  std::mt19937_64 rng(5);
  std::vector<krl::SerialRange> runs;
  std::uint64_t at = 1000;
  std::size_t dense = 0, medium = 0, sparse = 0;
  while (dense + medium + sparse < kSerials) {
    const int kind = static_cast<int>(rng() % 3);
    if (kind == 0 && dense < 500'000) {
      std::uint64_t len = std::min<std::uint64_t>(1000 + rng() % 3001, 500'000 - dense);
      at += 100 + rng() % 1000;
      runs.push_back({at, at + len - 1});
      at += len;
      dense += len;
    } else if (kind == 1 && medium < 300'000) {
      at += 100 + rng() % 1000;
      const std::uint64_t end = at + 8000;
      for (; at < end && medium < 300'000; ++at) {
        if (rng() % 8 < 3) {
          runs.push_back({at, at});
          ++medium;
        }
      }
    } else if (kind == 2 && sparse < 200'000) {
      for (int i = 0; i < 1000 && sparse < 200'000; ++i) {
        at += 2 + rng() % 999;
        runs.push_back({at, at});
        ++sparse;
      }
    }
  }
  return runs;
}

std::vector<key::PublicKey> ManyKeys() {
  std::vector<key::PublicKey> keys;
  keys.reserve(kKeys);
  for (std::size_t i = 0; i < kKeys; ++i) {
    std::string seed = "key " + std::to_string(i);
    auto raw = key::Sha256(AsBytes(seed));
    wire::Writer w;
    w.String(std::string_view("ssh-ed25519"));
    w.String(raw);
    keys.push_back(*key::ParsePublicKeyBlob(w.Take()));
  }
  return keys;
}

key::PublicKey CaKey() {
  auto raw = key::Sha256(AsBytes("the CA"));
  wire::Writer w;
  w.String(std::string_view("ssh-ed25519"));
  w.String(raw);
  return *key::ParsePublicKeyBlob(w.Take());
}

struct Input {
  std::vector<krl::SerialRange> serials = MixedSerials();
  std::vector<key::PublicKey> keys = ManyKeys();
  key::PublicKey ca = CaKey();
};

const Input& TheInput() {
  static const Input input;
  return input;
}

Bytes BuildOnce(const Input& in) {
  krl::KrlBuilder b;
  for (const auto& r : in.serials) (void)b.RevokeSerials(&in.ca, r.first, r.last);
  for (const auto& k : in.keys) b.RevokeKeyExplicit(k);
  krl::Krl krl = std::move(b).Finish();
  krl.version = 1;
  return *krl::EncodeKrl(krl);
}

void BM_BuildKrl(benchmark::State& state) {
  const Input& in = TheInput();
  std::size_t bytes = 0;
  for (auto _ : state) {
    Bytes out = BuildOnce(in);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["krl_bytes"] = static_cast<double>(bytes);
  state.counters["serials"] = static_cast<double>(kSerials);
  state.counters["keys"] = static_cast<double>(kKeys);
}
BENCHMARK(BM_BuildKrl)->Unit(benchmark::kMillisecond);

void BM_ParseKrl(benchmark::State& state) {
  const Bytes bytes = BuildOnce(TheInput());
  for (auto _ : state) {
    auto krl = krl::ParseKrl(bytes);
    if (!krl) state.SkipWithError("the KRL does not parse");
    benchmark::DoNotOptimize(krl);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_ParseKrl)->Unit(benchmark::kMillisecond);

void BM_IsRevoked(benchmark::State& state) {
  const Input& in = TheInput();
  auto krl = *krl::ParseKrl(BuildOnce(in));
  const key::PublicKey& listed = in.keys[kKeys / 2];
  const key::PublicKey other = CaKey();
  bool a = false, b = false;
  for (auto _ : state) {
    a = krl::IsRevoked(krl, listed);
    b = krl::IsRevoked(krl, other);
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(b);
  }
  if (!a || b) state.SkipWithError("wrong verdict");
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_IsRevoked);

}  // namespace

BENCHMARK_MAIN();
