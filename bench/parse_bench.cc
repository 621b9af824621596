// How fast keyward reads key lines and fingerprints them: the work of
// `keyward fingerprint` and of every authorized_keys render, without I/O.
//
//   BM_ParseFingerprintEd25519  100,000 distinct "ssh-ed25519 <base64> user@host"
//                               lines per iteration
//   BM_ParseFingerprintRsa3072    1,000 distinct RSA-3072 lines per iteration
//
// Each line goes through key::ReadKeyText() (type, base64, blob parse and
// validation) and key::AppendFingerprint() (SHA-256 of the plain blob,
// unpadded base64). items_per_second is lines per second.
//
// The Ed25519 keys are 32 random bytes each, not points made by a key
// generator: keyward, like OpenSSH's sshkey_from_blob(), checks only that an
// Ed25519 key is 32 bytes long, so random bytes cost exactly what real keys
// cost and take no time to make.
//
// The RSA keys are real (OpenSSL, e = 65537). Making 1,000 of them takes a
// minute or more, so they are made once, on all CPUs, and cached in
// /tmp/keyward-bench-rsa3072-1000.txt (KEYWARD_BENCH_RSA_CACHE overrides the
// path); a cache that does not read back as 1,000 distinct valid RSA-3072
// keys is made again.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include "base/bytes.h"
#include "key/fingerprint.h"
#include "key/public_key.h"
#include "wire/base64.h"
#include "wire/writer.h"

namespace {

using keyward::Bytes;
using keyward::ByteView;
namespace key = keyward::key;
namespace wire = keyward::wire;

constexpr std::size_t kEd25519Lines = 100'000;
constexpr std::size_t kRsaLines = 1'000;
constexpr int kRsaBits = 3072;

std::string Comment(std::size_t i) {
  return "user" + std::to_string(i) + "@host" + std::to_string(i % 251) + ".example.com";
}

std::vector<std::string> MakeEd25519Lines() {
  std::mt19937_64 rng(0x6b6579776172ULL);  // fixed: the same lines every run
  std::vector<std::string> lines;
  lines.reserve(kEd25519Lines);
  for (std::size_t i = 0; i < kEd25519Lines; ++i) {
    std::array<std::uint8_t, 32> raw;
    for (std::size_t j = 0; j < raw.size(); j += 8) {
      std::uint64_t v = rng();
      for (std::size_t k = 0; k < 8; ++k) raw[j + k] = static_cast<std::uint8_t>(v >> (8 * k));
    }
    wire::Writer w;
    w.String(std::string_view("ssh-ed25519"));
    w.String(ByteView(raw));
    lines.push_back("ssh-ed25519 " + wire::EncodeBase64(w.bytes()) + " " + Comment(i));
  }
  return lines;
}

Bytes BigNumParam(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return {};
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  return out;
}

// One "ssh-rsa <base64>" line for a fresh RSA-3072 key, or "" on failure.
std::string GenerateRsaLine() {
  std::string line;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* pkey = nullptr;
  if (ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, kRsaBits) == 1 &&
      EVP_PKEY_generate(ctx, &pkey) == 1) {
    Bytes e = BigNumParam(pkey, OSSL_PKEY_PARAM_RSA_E);
    Bytes n = BigNumParam(pkey, OSSL_PKEY_PARAM_RSA_N);
    if (!e.empty() && !n.empty()) {
      wire::Writer w;
      w.String(std::string_view("ssh-rsa"));
      w.MPInt(e);
      w.MPInt(n);
      line = "ssh-rsa " + wire::EncodeBase64(w.bytes());
    }
  }
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(ctx);
  return line;
}

// The cached lines, if there are kRsaLines distinct valid RSA-3072 keys.
std::vector<std::string> LoadRsaCache(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::set<std::string> seen;
  for (std::string line; std::getline(in, line);) {
    auto read = key::ReadKeyText(line);
    if (!read || read->key.algorithm() != key::Algorithm::kRsa || read->key.bits() != kRsaBits) return {};
    if (!seen.insert(key::Fingerprint(read->key)).second) return {};
    lines.push_back(std::move(line));
  }
  if (lines.size() != kRsaLines) return {};
  return lines;
}

std::vector<std::string> MakeRsaLines() {
  const char* env = std::getenv("KEYWARD_BENCH_RSA_CACHE");
  const std::string path = env != nullptr && *env != '\0' ? env : "/tmp/keyward-bench-rsa3072-1000.txt";
  if (auto cached = LoadRsaCache(path); !cached.empty()) return cached;

  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::fprintf(stderr, "parse_bench: making %zu RSA-%d keys on %u threads, once (cached in %s)...\n", kRsaLines,
               kRsaBits, threads, path.c_str());
  std::vector<std::string> keys(kRsaLines);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < kRsaLines;) {
        keys[i] = GenerateRsaLine();
        if (keys[i].empty()) failed = true;
      }
    });
  }
  for (auto& th : pool) th.join();
  if (failed) {
    std::fprintf(stderr, "parse_bench: OpenSSL could not make an RSA key\n");
    std::exit(1);
  }
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < kRsaLines; ++i) lines.push_back(keys[i] + " " + Comment(i));

  // Written beside the cache and renamed into place: never half a cache.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& line : lines) out << line << '\n';
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) std::remove(tmp.c_str());
  return lines;
}

void ParseAndFingerprint(benchmark::State& state, const std::vector<std::string>& lines) {
  std::string fingerprint;
  fingerprint.reserve(64);
  std::size_t bytes = 0;
  for (const auto& line : lines) bytes += line.size() + 1;
  for (auto _ : state) {
    for (const auto& line : lines) {
      auto read = key::ReadKeyText(line);
      if (!read) {
        state.SkipWithError(("a benchmark line does not parse: " + read.error().message).c_str());
        return;
      }
      fingerprint.clear();
      key::AppendFingerprint(read->key, key::FingerprintHash::kSha256, fingerprint);
      benchmark::DoNotOptimize(fingerprint.data());
      benchmark::ClobberMemory();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["lines"] = static_cast<double>(lines.size());
}

void BM_ParseFingerprintEd25519(benchmark::State& state) {
  static const std::vector<std::string> lines = MakeEd25519Lines();
  ParseAndFingerprint(state, lines);
}
BENCHMARK(BM_ParseFingerprintEd25519)->Unit(benchmark::kMillisecond);

void BM_ParseFingerprintRsa3072(benchmark::State& state) {
  static const std::vector<std::string> lines = MakeRsaLines();
  ParseAndFingerprint(state, lines);
}
BENCHMARK(BM_ParseFingerprintRsa3072)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
