#include "key/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dsa.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>
#include <string_view>

#include "key/public_key.h"
#include "wire/reader.h"

namespace keyward::key {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX, BN_CTX_free>>;
using PointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT, EC_POINT_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using DsaSigPtr = std::unique_ptr<DSA_SIG, Deleter<DSA_SIG, DSA_SIG_free>>;

// Fetching a digest is the slow part of hashing small inputs; do it once.
const EVP_MD* FetchedDigest(const char* name) {
  // The fetched objects live for the life of the process on purpose.
  if (std::string_view(name) == "SHA256") {
    static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
  }
  if (std::string_view(name) == "MD5") {
    static const EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
    return md;
  }
  if (std::string_view(name) == "SHA384") {
    static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA384", nullptr);
    return md;
  }
  if (std::string_view(name) == "SHA512") {
    static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA512", nullptr);
    return md;
  }
  static const EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return sha1;
}

template <std::size_t N>
std::array<std::uint8_t, N> Digest(const char* name, ByteView data) {
  thread_local MdCtxPtr ctx(EVP_MD_CTX_new());
  std::array<std::uint8_t, N> out{};
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), FetchedDigest(name), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != N) {
    // Hashing cannot fail short of memory exhaustion; there is no safe
    // result to return instead.
    std::abort();
  }
  return out;
}

int CurveNid(Curve curve) {
  switch (curve) {
    case Curve::kP256: return NID_X9_62_prime256v1;
    case Curve::kP384: return NID_secp384r1;
    case Curve::kP521: return NID_secp521r1;
    case Curve::kNone: break;
  }
  return NID_undef;
}

const char* CurveGroupName(Curve curve) {
  switch (curve) {
    case Curve::kP256: return "prime256v1";
    case Curve::kP384: return "secp384r1";
    case Curve::kP521: return "secp521r1";
    case Curve::kNone: break;
  }
  return "";
}

const EC_GROUP* Group(Curve curve) {
  // Built once and only read afterwards, which OpenSSL allows across threads.
  static const EC_GROUP* p256 = EC_GROUP_new_by_curve_name(CurveNid(Curve::kP256));
  static const EC_GROUP* p384 = EC_GROUP_new_by_curve_name(CurveNid(Curve::kP384));
  static const EC_GROUP* p521 = EC_GROUP_new_by_curve_name(CurveNid(Curve::kP521));
  switch (curve) {
    case Curve::kP256: return p256;
    case Curve::kP384: return p384;
    case Curve::kP521: return p521;
    case Curve::kNone: break;
  }
  return nullptr;
}

tl::unexpected<Error> InvalidPoint(std::string why) {
  return Fail("invalid_ec_point", "the ECDSA public key is not a valid point: " + std::move(why));
}

tl::unexpected<Error> BadSignature(std::string why) {
  return Fail("bad_signature", "the signature does not verify: " + std::move(why));
}

BnPtr Bn(ByteView magnitude) {
  return BnPtr(BN_bin2bn(magnitude.data(), static_cast<int>(magnitude.size()), nullptr));
}

PkeyPtr FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return nullptr;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return PkeyPtr(pkey);
}

PkeyPtr RsaKey(const PublicKey& k) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  BnPtr n = Bn(k.rsa_n()), e = Bn(k.rsa_e());
  if (!bld || !n || !e || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return nullptr;
  }
  return FromParams("RSA", bld.get());
}

PkeyPtr DsaKey(const PublicKey& k) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  BnPtr p = Bn(k.dsa_p()), q = Bn(k.dsa_q()), g = Bn(k.dsa_g()), y = Bn(k.dsa_y());
  if (!bld || !p || !q || !g || !y || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, p.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_Q, q.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y.get()) != 1) {
    return nullptr;
  }
  return FromParams("DSA", bld.get());
}

PkeyPtr EcKey(Curve curve, ByteView point) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, CurveGroupName(curve), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return nullptr;
  }
  return FromParams("EC", bld.get());
}

PkeyPtr Ed25519Key(ByteView raw) {
  return PkeyPtr(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()));
}

// One-shot verification; `md` is null for Ed25519.
bool Verify(EVP_PKEY* pkey, const char* md, ByteView sig, ByteView data, bool pkcs1 = false) {
  if (pkey == nullptr) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, pkey, nullptr) != 1) {
    return false;
  }
  if (pkcs1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}

Result<Bytes> EcdsaDer(ByteView sig_body) {
  wire::Reader r(sig_body);
  auto rr = r.MPInt();
  if (!rr) return Fail(rr.error());
  auto ss = r.MPInt();
  if (!ss) return Fail(ss.error());
  if (!r.empty()) return BadSignature("trailing bytes in the ECDSA signature");
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BnPtr bn_r = Bn(*rr), bn_s = Bn(*ss);
  if (!sig || !bn_r || !bn_s || ECDSA_SIG_set0(sig.get(), bn_r.get(), bn_s.get()) != 1) {
    return BadSignature("cannot encode the ECDSA signature");
  }
  bn_r.release();
  bn_s.release();
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return BadSignature("cannot encode the ECDSA signature");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

const char* EcdsaHash(Curve curve) {
  switch (curve) {
    case Curve::kP384: return "SHA384";
    case Curve::kP521: return "SHA512";
    default: return "SHA256";
  }
}

// Security-key signatures cover SHA256(application) || flags || counter ||
// SHA256(data) (PROTOCOL.u2f).
Bytes SkSignedMessage(std::string_view application, std::uint8_t flags, std::uint32_t counter, ByteView data) {
  Bytes m;
  auto app = Sha256(AsBytes(application));
  auto msg = Sha256(data);
  m.insert(m.end(), app.begin(), app.end());
  m.push_back(flags);
  for (int shift = 24; shift >= 0; shift -= 8) m.push_back(static_cast<std::uint8_t>(counter >> shift));
  m.insert(m.end(), msg.begin(), msg.end());
  return m;
}

}  // namespace

Sha256Digest Sha256(ByteView data) { return Digest<32>("SHA256", data); }
Md5Digest Md5(ByteView data) { return Digest<16>("MD5", data); }

unsigned BitLength(ByteView magnitude) {
  std::size_t i = 0;
  while (i < magnitude.size() && magnitude[i] == 0) ++i;
  if (i == magnitude.size()) return 0;
  unsigned bits = static_cast<unsigned>((magnitude.size() - i - 1) * 8);
  for (unsigned b = magnitude[i]; b != 0; b >>= 1) ++bits;
  return bits;
}

Result<void> ValidateEcPoint(Curve curve, ByteView point) {
  const EC_GROUP* group = Group(curve);
  if (group == nullptr) return InvalidPoint("unknown curve");
  if (point.empty() || point[0] != POINT_CONVERSION_UNCOMPRESSED) {
    return InvalidPoint("only uncompressed points are allowed");
  }
  BnCtxPtr bn_ctx(BN_CTX_new());
  PointPtr q(EC_POINT_new(group));
  BnPtr x(BN_new()), y(BN_new()), order_minus_one(BN_new());
  PointPtr nq(EC_POINT_new(group));
  if (!bn_ctx || !q || !x || !y || !order_minus_one || !nq) return InvalidPoint("out of memory");
  // oct2point rejects points that are not on the curve.
  if (EC_POINT_oct2point(group, q.get(), point.data(), point.size(), bn_ctx.get()) != 1) {
    return InvalidPoint("it is not on the curve");
  }
  if (EC_POINT_is_at_infinity(group, q.get()) == 1) return InvalidPoint("it is the point at infinity");
  if (EC_POINT_get_affine_coordinates(group, q.get(), x.get(), y.get(), bn_ctx.get()) != 1) {
    return InvalidPoint("its coordinates cannot be read");
  }
  const BIGNUM* order = EC_GROUP_get0_order(group);
  // Coordinates with fewer than half the order's bits are a sign of a
  // crafted key (OpenSSH applies the same test).
  if (BN_num_bits(x.get()) <= BN_num_bits(order) / 2 || BN_num_bits(y.get()) <= BN_num_bits(order) / 2) {
    return InvalidPoint("its coordinates are too small");
  }
  if (EC_POINT_mul(group, nq.get(), nullptr, q.get(), order, bn_ctx.get()) != 1 ||
      EC_POINT_is_at_infinity(group, nq.get()) != 1) {
    return InvalidPoint("it is not in the curve's prime-order group");
  }
  if (BN_sub(order_minus_one.get(), order, BN_value_one()) != 1 || BN_cmp(x.get(), order_minus_one.get()) >= 0 ||
      BN_cmp(y.get(), order_minus_one.get()) >= 0) {
    return InvalidPoint("its coordinates are out of range");
  }
  return {};
}

Result<void> VerifySignature(const PublicKey& signer, ByteView signature_blob, ByteView data) {
  wire::Reader r(signature_blob);
  auto alg = r.CString();
  if (!alg) return BadSignature("no algorithm name");
  auto body = r.String();
  if (!body) return BadSignature("no signature bytes");
  const std::string_view a = *alg;

  switch (signer.algorithm()) {
    case Algorithm::kEd25519: {
      if (a != "ssh-ed25519") return BadSignature("algorithm " + std::string(a) + " is not ssh-ed25519");
      if (!r.empty()) return BadSignature("trailing bytes");
      if (body->size() != 64) return BadSignature("an Ed25519 signature is 64 bytes");
      PkeyPtr pkey = Ed25519Key(signer.raw_key());
      if (!Verify(pkey.get(), nullptr, *body, data)) return BadSignature("Ed25519 verification failed");
      return {};
    }
    case Algorithm::kEcdsa: {
      if (a != signer.type_name()) return BadSignature("algorithm " + std::string(a) + " does not match the key");
      if (!r.empty()) return BadSignature("trailing bytes");
      auto der = EcdsaDer(*body);
      if (!der) return Fail(der.error());
      PkeyPtr pkey = EcKey(signer.curve(), signer.ec_point());
      if (!Verify(pkey.get(), EcdsaHash(signer.curve()), *der, data)) {
        return BadSignature("ECDSA verification failed");
      }
      return {};
    }
    case Algorithm::kRsa: {
      const char* md = nullptr;
      if (a == "ssh-rsa") md = "SHA1";
      else if (a == "rsa-sha2-256") md = "SHA256";
      else if (a == "rsa-sha2-512") md = "SHA512";
      else return BadSignature("algorithm " + std::string(a) + " is not an RSA signature");
      if (!r.empty()) return BadSignature("trailing bytes");
      const std::size_t modulus_bytes = (BitLength(signer.rsa_n()) + 7) / 8;
      if (body->empty() || body->size() > modulus_bytes) return BadSignature("RSA signature of the wrong size");
      Bytes padded(modulus_bytes - body->size(), 0);
      padded.insert(padded.end(), body->begin(), body->end());
      PkeyPtr pkey = RsaKey(signer);
      if (!Verify(pkey.get(), md, padded, data, true)) return BadSignature("RSA verification failed");
      return {};
    }
    case Algorithm::kDsa: {
      if (a != "ssh-dss") return BadSignature("algorithm " + std::string(a) + " is not ssh-dss");
      if (!r.empty()) return BadSignature("trailing bytes");
      if (body->size() != 40) return BadSignature("a DSA signature is 40 bytes");
      DsaSigPtr sig(DSA_SIG_new());
      BnPtr bn_r(BN_bin2bn(body->data(), 20, nullptr)), bn_s(BN_bin2bn(body->data() + 20, 20, nullptr));
      if (!sig || !bn_r || !bn_s || DSA_SIG_set0(sig.get(), bn_r.get(), bn_s.get()) != 1) {
        return BadSignature("cannot encode the DSA signature");
      }
      bn_r.release();
      bn_s.release();
      int len = i2d_DSA_SIG(sig.get(), nullptr);
      if (len <= 0) return BadSignature("cannot encode the DSA signature");
      Bytes der(static_cast<std::size_t>(len));
      unsigned char* p = der.data();
      i2d_DSA_SIG(sig.get(), &p);
      PkeyPtr pkey = DsaKey(signer);
      if (!Verify(pkey.get(), "SHA1", der, data)) return BadSignature("DSA verification failed");
      return {};
    }
    case Algorithm::kEd25519Sk:
    case Algorithm::kEcdsaSk: {
      if (a != signer.type_name()) {
        return BadSignature("algorithm " + std::string(a) + " is not supported for this security key");
      }
      auto flags = r.U8();
      auto counter = flags ? r.U32() : Result<std::uint32_t>(Fail(flags.error()));
      if (!counter) return BadSignature("security-key signature without flags and counter");
      if (!r.empty()) return BadSignature("trailing bytes");
      Bytes message = SkSignedMessage(signer.sk_application(), *flags, *counter, data);
      if (signer.algorithm() == Algorithm::kEd25519Sk) {
        if (body->size() != 64) return BadSignature("an Ed25519 signature is 64 bytes");
        PkeyPtr pkey = Ed25519Key(signer.raw_key());
        if (!Verify(pkey.get(), nullptr, *body, message)) return BadSignature("Ed25519-SK verification failed");
        return {};
      }
      auto der = EcdsaDer(*body);
      if (!der) return Fail(der.error());
      PkeyPtr pkey = EcKey(signer.curve(), signer.ec_point());
      if (!Verify(pkey.get(), "SHA256", *der, message)) return BadSignature("ECDSA-SK verification failed");
      return {};
    }
    case Algorithm::kMlDsa44Ed25519:
      break;
  }
  return BadSignature("keyward cannot verify signatures made with " + std::string(signer.type_name()));
}

}  // namespace keyward::key
