// How fast keyward's CA signs certificates, in process, on one core.
//
//   BM_RawEd25519Sign            OpenSSL alone: one Ed25519 signature of a
//                                400-byte message (a certificate's size),
//                                context reused: the ceiling
//   BM_SignCertificate/<CA>      ca::SignCertificate(): nonce, encoding, CA
//                                signature, for 1,000 distinct Ed25519
//                                subjects in turn (Ed25519, ECDSA P-256 and
//                                RSA-3072 CAs)
//   BM_IssueBatch1000            ca::IssueCertificates() of 1,000 requests:
//                                the above plus the serial block (write,
//                                fsync, rename, fsync of the folder) and
//                                the issuance log (one append, one fsync)
//
// items_per_second is certificates (or signatures) per second. The
// subjects are real Ed25519 keys made by OpenSSL once before timing.
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include "ca/ca_signer.h"
#include "ca/certificate.h"
#include "ca/issuer.h"

namespace {

namespace ca = keyward::ca;
namespace key = keyward::key;

constexpr std::size_t kSubjects = 1000;

ca::CaSigner MakeCa(key::Algorithm algorithm, unsigned bits) {
  auto signer = ca::CaSigner::Generate(ca::CaKeySpec{algorithm, bits});
  if (!signer) {
    std::fprintf(stderr, "cannot make the CA key: %s\n", signer.error().message.c_str());
    std::exit(1);
  }
  return std::move(*signer);
}

const std::vector<key::PublicKey>& Subjects() {
  static const std::vector<key::PublicKey> subjects = [] {
    std::vector<key::PublicKey> out;
    out.reserve(kSubjects);
    for (std::size_t i = 0; i < kSubjects; ++i) out.push_back(MakeCa(key::Algorithm::kEd25519, 0).public_key());
    return out;
  }();
  return subjects;
}

ca::CertificateRequest Request(const key::PublicKey& subject, std::uint64_t serial) {
  ca::CertificateRequest r;
  r.subject = subject;
  r.serial = serial;
  r.key_id = "keyward:alice:login:" + std::to_string(serial);
  r.principals = {"alice"};
  r.valid_after = 1'800'000'000;
  r.valid_before = 1'800'604'800;
  r.extensions = {"permit-pty", "permit-agent-forwarding", "permit-port-forwarding"};
  return r;
}

void BM_RawEd25519Sign(benchmark::State& state) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (pkey == nullptr || ctx == nullptr ||
      EVP_DigestSignInit_ex(ctx, nullptr, nullptr, nullptr, nullptr, pkey, nullptr) != 1) {
    state.SkipWithError("OpenSSL setup failed");
    return;
  }
  std::vector<unsigned char> message(400, 0x5a);
  unsigned char sig[64];
  for (auto _ : state) {
    std::size_t len = sizeof sig;
    message[0]++;
    if (EVP_DigestSign(ctx, sig, &len, message.data(), message.size()) != 1) state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
}
BENCHMARK(BM_RawEd25519Sign);

void BM_SignCertificate(benchmark::State& state, key::Algorithm algorithm, unsigned bits) {
  const auto& subjects = Subjects();
  ca::CaSigner signer = MakeCa(algorithm, bits);
  std::vector<ca::CertificateRequest> requests;
  for (std::size_t i = 0; i < subjects.size(); ++i) requests.push_back(Request(subjects[i], i + 1));
  std::size_t i = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto blob = ca::SignCertificate(signer, requests[i]);
    if (!blob) {
      state.SkipWithError(blob.error().message.c_str());
      break;
    }
    bytes += blob->size();
    i = (i + 1) % requests.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["cert_bytes"] = state.iterations() ? static_cast<double>(bytes) / static_cast<double>(state.iterations()) : 0;
}
BENCHMARK_CAPTURE(BM_SignCertificate, Ed25519CA, key::Algorithm::kEd25519, 0u);
BENCHMARK_CAPTURE(BM_SignCertificate, EcdsaP256CA, key::Algorithm::kEcdsa, 256u);
BENCHMARK_CAPTURE(BM_SignCertificate, Rsa3072CA, key::Algorithm::kRsa, 3072u);

void BM_IssueBatch1000(benchmark::State& state) {
  const auto& subjects = Subjects();
  ca::CaSigner signer = MakeCa(key::Algorithm::kEd25519, 0);
  char tmpl[] = "/tmp/keyward-ca-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  int dirfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::vector<ca::CertificateRequest> requests;
  for (const auto& s : subjects) requests.push_back(Request(s, 0));
  for (auto& r : requests) r.key_id.clear();  // IssueCertificates gives the default key id
  ca::IssueContext context{"login", "alice", "bench", "local", 1'800'000'000};
  for (auto _ : state) {
    auto issued = ca::IssueCertificates(dirfd, signer, requests, context);
    if (!issued) {
      state.SkipWithError(issued.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(issued->data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * requests.size()));
  close(dirfd);
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
}
BENCHMARK(BM_IssueBatch1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
