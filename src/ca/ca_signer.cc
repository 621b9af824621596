#include "ca/ca_signer.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include <array>
#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "wire/writer.h"

namespace keyward::ca {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

constexpr std::size_t kEd25519SignatureBytes = 64;
constexpr std::string_view kEd25519Name = "ssh-ed25519";

tl::unexpected<Error> SignFailed(std::string_view what) {
  return Fail("sign_failed", "the CA key could not sign (" + std::string(what) +
                                 "); check that the CA key file is intact");
}

tl::unexpected<Error> BadCaKey(std::string why) { return Fail("bad_ca_key", "the CA key " + std::move(why)); }

void PutU32(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

Bytes BnBytes(const BIGNUM* bn) {
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  return out;
}

Result<Bytes> BnParam(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return BadCaKey(std::string("lacks its ") + name);
  BnPtr bn(raw);
  return BnBytes(bn.get());
}

Result<key::Curve> CurveOf(const EVP_PKEY* pkey) {
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1) return BadCaKey("has no curve");
  switch (OBJ_sn2nid(name)) {
    case NID_X9_62_prime256v1: return key::Curve::kP256;
    case NID_secp384r1: return key::Curve::kP384;
    case NID_secp521r1: return key::Curve::kP521;
    default: break;
  }
  return BadCaKey("is on the curve " + std::string(name) + "; OpenSSH CAs use P-256, P-384 or P-521");
}

const char* EcdsaDigest(key::Curve curve) {
  switch (curve) {
    case key::Curve::kP384: return "SHA384";
    case key::Curve::kP521: return "SHA512";
    default: return "SHA256";
  }
}

// The CA's public key blob, as OpenSSH encodes it.
Result<Bytes> PublicBlob(const EVP_PKEY* pkey, key::Algorithm algorithm, key::Curve curve) {
  wire::Writer w;
  switch (algorithm) {
    case key::Algorithm::kEd25519: {
      std::array<std::uint8_t, key::kEd25519KeyBytes> raw{};
      std::size_t len = raw.size();
      if (EVP_PKEY_get_raw_public_key(pkey, raw.data(), &len) != 1 || len != raw.size()) {
        return BadCaKey("has no Ed25519 public key");
      }
      w.String(kEd25519Name);
      w.String(ByteView(raw));
      break;
    }
    case key::Algorithm::kEcdsa: {
      std::array<std::uint8_t, 1 + 2 * 66> point{};
      std::size_t len = 0;
      if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(), point.size(),
                                          &len) != 1 ||
          len == 0 || point[0] != POINT_CONVERSION_UNCOMPRESSED) {
        return BadCaKey("has no usable ECDSA public point");
      }
      w.String(key::CanonicalKeyType(algorithm, curve, false).name);
      w.String(key::CurveIdentifier(curve));
      w.String(ByteView(point).first(len));
      break;
    }
    case key::Algorithm::kRsa: {
      auto e = BnParam(pkey, OSSL_PKEY_PARAM_RSA_E);
      if (!e) return Fail(e.error());
      auto n = BnParam(pkey, OSSL_PKEY_PARAM_RSA_N);
      if (!n) return Fail(n.error());
      w.String(std::string_view("ssh-rsa"));
      w.MPInt(*e);
      w.MPInt(*n);
      break;
    }
    default: return BadCaKey("is of a type keyward does not sign with");
  }
  return w.Take();
}

}  // namespace

struct CaSigner::Impl {
  PkeyPtr pkey;
  MdCtxPtr ctx;
  key::Algorithm algorithm = key::Algorithm::kEd25519;
  key::Curve curve = key::Curve::kNone;
  std::string signature_algorithm;
  key::PublicKey public_key;

  // Ed25519 signs in one shot, so its context is set up once and signs any
  // number of messages; digest-then-sign contexts keep state after a
  // signature and must be initialised again before the next.
  Result<void> InitContext() {
    const char* md = nullptr;
    if (algorithm == key::Algorithm::kEcdsa) md = EcdsaDigest(curve);
    if (algorithm == key::Algorithm::kRsa) md = "SHA512";
    if (EVP_DigestSignInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, pkey.get(), nullptr) != 1) {
      return SignFailed("cannot initialise the signature");
    }
    return {};
  }
};

Result<CaKeySpec> ParseCaKeySpec(std::string_view type, unsigned bits) {
  CaKeySpec spec;
  if (type == "ed25519") {
    if (bits != 0 && bits != 256) return Fail("bad_ca_type", "Ed25519 keys have no size to choose; leave out --bits");
    spec.algorithm = key::Algorithm::kEd25519;
  } else if (type == "ecdsa") {
    spec.algorithm = key::Algorithm::kEcdsa;
    spec.bits = bits == 0 ? 256 : bits;
    if (spec.bits != 256 && spec.bits != 384 && spec.bits != 521) {
      return Fail("bad_ca_type", "ECDSA keys are 256, 384 or 521 bits");
    }
  } else if (type == "rsa") {
    spec.algorithm = key::Algorithm::kRsa;
    spec.bits = bits == 0 ? kDefaultRsaBits : bits;
    if (spec.bits < kMinCaRsaBits || spec.bits > kMaxCaRsaBits) {
      return Fail("bad_ca_type", "an RSA CA key is " + std::to_string(kMinCaRsaBits) + " to " +
                                     std::to_string(kMaxCaRsaBits) + " bits (default " +
                                     std::to_string(kDefaultRsaBits) + ")");
    }
  } else {
    return Fail("bad_ca_type", "the CA key type is ed25519, ecdsa or rsa");
  }
  return spec;
}

CaSigner::CaSigner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CaSigner::CaSigner(CaSigner&&) noexcept = default;
CaSigner& CaSigner::operator=(CaSigner&&) noexcept = default;
CaSigner::~CaSigner() = default;

Result<CaSigner> CaSigner::Generate(const CaKeySpec& spec) {
  EVP_PKEY* pkey = nullptr;
  switch (spec.algorithm) {
    case key::Algorithm::kEd25519: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    case key::Algorithm::kEcdsa: {
      const char* curve = spec.bits == 384 ? "P-384" : spec.bits == 521 ? "P-521" : "P-256";
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
      break;
    }
    case key::Algorithm::kRsa:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(spec.bits ? spec.bits : kDefaultRsaBits));
      break;
    default: return Fail("bad_ca_type", "the CA key type is ed25519, ecdsa or rsa");
  }
  if (pkey == nullptr) return Fail("keygen_failed", "OpenSSL could not generate the CA key");
  return FromOpenSslKey(pkey);
}

Result<CaSigner> CaSigner::FromOpenSslKey(evp_pkey_st* raw) {
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  if (!impl->pkey) return BadCaKey("is missing");
  EVP_PKEY* pkey = impl->pkey.get();
  if (EVP_PKEY_is_a(pkey, "ED25519")) {
    impl->algorithm = key::Algorithm::kEd25519;
    impl->signature_algorithm = kEd25519Name;
  } else if (EVP_PKEY_is_a(pkey, "EC")) {
    impl->algorithm = key::Algorithm::kEcdsa;
    auto curve = CurveOf(pkey);
    if (!curve) return Fail(curve.error());
    impl->curve = *curve;
    impl->signature_algorithm = key::CanonicalKeyType(key::Algorithm::kEcdsa, *curve, false).name;
  } else if (EVP_PKEY_is_a(pkey, "RSA")) {
    impl->algorithm = key::Algorithm::kRsa;
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < static_cast<int>(kMinCaRsaBits)) {
      return BadCaKey("is RSA of " + std::to_string(bits) + " bits; a CA key needs at least " +
                      std::to_string(kMinCaRsaBits));
    }
    impl->signature_algorithm = "rsa-sha2-512";
  } else {
    return BadCaKey("is not Ed25519, ECDSA or RSA");
  }
  auto blob = PublicBlob(pkey, impl->algorithm, impl->curve);
  if (!blob) return Fail(blob.error());
  auto parsed = key::ParsePublicKeyBlob(std::move(*blob), {.allow_certificate = false});
  if (!parsed) return BadCaKey("has a public half OpenSSH would not read: " + parsed.error().message);
  impl->public_key = std::move(*parsed);
  impl->ctx.reset(EVP_MD_CTX_new());
  if (!impl->ctx) return SignFailed("out of memory");
  if (auto ok = impl->InitContext(); !ok) return Fail(ok.error());
  return CaSigner(std::move(impl));
}

const key::PublicKey& CaSigner::public_key() const { return impl_->public_key; }

std::string_view CaSigner::signature_algorithm() const { return impl_->signature_algorithm; }

const evp_pkey_st* CaSigner::openssl_key() const { return impl_->pkey.get(); }

Result<Bytes> CaSigner::Sign(ByteView data) const {
  Bytes wrapped;
  if (auto ok = AppendSignature(data, wrapped); !ok) return Fail(ok.error());
  return Bytes(wrapped.begin() + 4, wrapped.end());  // without the outer length
}

Result<void> CaSigner::AppendSignature(ByteView data, Bytes& out) const {
  Impl& s = *impl_;
  // When `data` lies inside `out`, make room first so that appending never
  // moves the bytes being signed.
  std::less<const std::uint8_t*> before;
  if (!data.empty() && !out.empty() && !before(data.data(), out.data()) &&
      before(data.data(), out.data() + out.size())) {
    const std::size_t offset = static_cast<std::size_t>(data.data() - out.data());
    out.reserve(out.size() + kMaxSignatureBlobBytes + 4);
    data = ByteView(out.data() + offset, data.size());
  }
  const std::string& name = s.signature_algorithm;
  if (s.algorithm == key::Algorithm::kEd25519) {
    // string(string "ssh-ed25519", string signature), signed in place.
    const std::size_t body = 4 + name.size() + 4 + kEd25519SignatureBytes;
    PutU32(out, static_cast<std::uint32_t>(body));
    PutU32(out, static_cast<std::uint32_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
    PutU32(out, static_cast<std::uint32_t>(kEd25519SignatureBytes));
    std::size_t at = out.size();
    out.resize(at + kEd25519SignatureBytes);
    std::size_t len = kEd25519SignatureBytes;
    if (EVP_DigestSign(s.ctx.get(), out.data() + at, &len, data.data(), data.size()) != 1 ||
        len != kEd25519SignatureBytes) {
      out.resize(at);
      return SignFailed("Ed25519");
    }
    return {};
  }

  if (auto ok = s.InitContext(); !ok) return ok;
  std::size_t len = 0;
  if (EVP_DigestSign(s.ctx.get(), nullptr, &len, data.data(), data.size()) != 1) return SignFailed("size");
  Bytes sig(len);
  if (EVP_DigestSign(s.ctx.get(), sig.data(), &len, data.data(), data.size()) != 1) return SignFailed(name);
  sig.resize(len);

  wire::Writer w;
  w.String(std::string_view(name));
  if (s.algorithm == key::Algorithm::kEcdsa) {
    // OpenSSL gives DER; SSH wants string(mpint r, mpint s).
    const unsigned char* p = sig.data();
    EcdsaSigPtr ecdsa(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
    if (!ecdsa) return SignFailed("ECDSA encoding");
    wire::Writer rs;
    rs.MPInt(BnBytes(ECDSA_SIG_get0_r(ecdsa.get())));
    rs.MPInt(BnBytes(ECDSA_SIG_get0_s(ecdsa.get())));
    w.String(ByteView(rs.bytes()));
  } else {
    // RSA: as long as the modulus, which OpenSSL always gives.
    w.String(ByteView(sig));
  }
  const Bytes& blob = w.bytes();
  PutU32(out, static_cast<std::uint32_t>(blob.size()));
  out.insert(out.end(), blob.begin(), blob.end());
  return {};
}

}  // namespace keyward::ca
