#include "ca/private_key_file.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "ca/libssh_loader.h"
#include "wire/base64.h"
#include "wire/reader.h"

namespace keyward::ca {
namespace {

constexpr std::string_view kOpenSshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kOpenSshEnd = "-----END OPENSSH PRIVATE KEY-----";
// "openssh-key-v1" and its terminating NUL.
constexpr std::string_view kMagic{"openssh-key-v1\0", 15};
constexpr std::size_t kBase64LineLength = 70;  // as ssh-keygen wraps it
constexpr std::size_t kUnencryptedBlockSize = 8;

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BnClearFree {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};
struct BnCtxFree {
  void operator()(BN_CTX* p) const { BN_CTX_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct P8Free {
  void operator()(PKCS8_PRIV_KEY_INFO* p) const { PKCS8_PRIV_KEY_INFO_free(p); }
};
struct X509SigFree {
  void operator()(X509_SIG* p) const { X509_SIG_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using SecretBn = std::unique_ptr<BIGNUM, BnClearFree>;
using BnCtxPtr = std::unique_ptr<BN_CTX, BnCtxFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;
using P8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, P8Free>;
using X509SigPtr = std::unique_ptr<X509_SIG, X509SigFree>;

tl::unexpected<Error> BadKeyFile(std::string why) {
  return Fail("bad_ca_key", "the CA key file " + std::move(why));
}

// Bytes that hold private key material: reserved once (no reallocation
// leaves copies behind) and wiped when done.
class SecretBytes {
 public:
  SecretBytes() { bytes_.reserve(32 * 1024); }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { WipeBytes(bytes_.data(), bytes_.size()); }

  void U8(std::uint8_t v) { bytes_.push_back(v); }
  void U32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes_.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  void Raw(ByteView v) { bytes_.insert(bytes_.end(), v.begin(), v.end()); }
  void String(ByteView v) {
    U32(static_cast<std::uint32_t>(v.size()));
    Raw(v);
  }
  void String(std::string_view v) { String(AsBytes(v)); }
  // SSH mpint of a non-negative BIGNUM.
  void MPInt(const BIGNUM* bn) {
    std::size_t n = static_cast<std::size_t>(BN_num_bytes(bn));
    bool pad = n > 0 && BN_num_bits(bn) % 8 == 0;
    U32(static_cast<std::uint32_t>(n + (pad ? 1 : 0)));
    if (pad) U8(0);
    std::size_t at = bytes_.size();
    bytes_.resize(at + n);
    BN_bn2bin(bn, bytes_.data() + at);
  }
  const Bytes& bytes() const { return bytes_; }
  std::size_t size() const { return bytes_.size(); }

 private:
  Bytes bytes_;
};

Result<SecretBn> GetBn(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return BadKeyFile(std::string("cannot be written: no ") + name);
  return SecretBn(bn);
}

// The private fields of the key, as the SSH agent protocol orders them.
Result<void> WritePrivateFields(const CaSigner& signer, SecretBytes& out) {
  const EVP_PKEY* pkey = signer.openssl_key();
  const key::PublicKey& pub = signer.public_key();
  out.String(pub.type_name());
  switch (pub.algorithm()) {
    case key::Algorithm::kEd25519: {
      std::array<std::uint8_t, 64> seed_and_public{};
      std::size_t len = 32;
      bool ok = EVP_PKEY_get_raw_private_key(pkey, seed_and_public.data(), &len) == 1 && len == 32;
      std::copy(pub.raw_key().begin(), pub.raw_key().end(), seed_and_public.begin() + 32);
      if (ok) {
        out.String(pub.raw_key());
        out.String(ByteView(seed_and_public));
      }
      WipeBytes(seed_and_public.data(), seed_and_public.size());
      if (!ok) return BadKeyFile("cannot be written: no Ed25519 private key");
      return {};
    }
    case key::Algorithm::kEcdsa: {
      auto d = GetBn(pkey, OSSL_PKEY_PARAM_PRIV_KEY);
      if (!d) return Fail(d.error());
      out.String(key::CurveIdentifier(pub.curve()));
      out.String(pub.ec_point());
      out.MPInt(d->get());
      return {};
    }
    case key::Algorithm::kRsa: {
      const char* names[] = {OSSL_PKEY_PARAM_RSA_N,            OSSL_PKEY_PARAM_RSA_E,       OSSL_PKEY_PARAM_RSA_D,
                             OSSL_PKEY_PARAM_RSA_COEFFICIENT1, OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2};
      for (const char* name : names) {  // n, e, d, iqmp, p, q
        auto bn = GetBn(pkey, name);
        if (!bn) return Fail(bn.error());
        out.MPInt(bn->get());
      }
      return {};
    }
    default: break;
  }
  return BadKeyFile("cannot be written for this key type");
}

void AppendWrapped(std::string_view base64, std::string& out) {
  for (std::size_t i = 0; i < base64.size(); i += kBase64LineLength) {
    out.append(base64.substr(i, kBase64LineLength));
    out += '\n';
  }
}

// ---------------------------------------------------------------- reading

Result<PkeyPtr> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    return BadKeyFile("holds a private key OpenSSL does not accept");
  }
  PkeyPtr owned(pkey);
  // The private and public halves must belong together.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, owned.get(), nullptr));
  if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) {
    return BadKeyFile("holds a private key that does not match its public key");
  }
  return owned;
}

SecretBn Bn(ByteView magnitude) {
  return SecretBn(BN_bin2bn(magnitude.data(), static_cast<int>(magnitude.size()), nullptr));
}

Result<PkeyPtr> ReadEd25519(wire::Reader& r) {
  auto pk = r.String();
  auto sk = pk ? r.String() : pk;
  if (!pk || !sk) return BadKeyFile("has a truncated Ed25519 key");
  if (pk->size() != 32 || sk->size() != 64 || !Equal(sk->subspan(32), *pk)) {
    return BadKeyFile("has a malformed Ed25519 key");
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, sk->data(), 32);
  if (pkey == nullptr) return BadKeyFile("holds an Ed25519 key OpenSSL does not accept");
  return PkeyPtr(pkey);
}

Result<PkeyPtr> ReadEcdsa(wire::Reader& r, key::Curve curve) {
  auto id = r.CString();
  auto q = id ? r.String() : tl::unexpected<Error>(id.error());
  auto d = q ? r.MPInt() : tl::unexpected<Error>(q.error());
  if (!d) return BadKeyFile("has a truncated ECDSA key");
  if (key::CurveFromIdentifier(*id) != curve) return BadKeyFile("names a curve that does not match its key type");
  const char* group = curve == key::Curve::kP384 ? "secp384r1" : curve == key::Curve::kP521 ? "secp521r1" : "prime256v1";
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  SecretBn priv = Bn(*d);
  if (!bld || !priv || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, q->data(), q->size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1) {
    return BadKeyFile("holds an ECDSA key that cannot be loaded");
  }
  return FromParams("EC", bld.get());
}

Result<PkeyPtr> ReadRsa(wire::Reader& r) {
  // n, e, d, iqmp, p, q
  std::array<SecretBn, 6> v;
  for (auto& bn : v) {
    auto m = r.MPInt();
    if (!m) return BadKeyFile("has a truncated RSA key");
    bn = Bn(*m);
    if (!bn) return BadKeyFile("holds an RSA key that cannot be loaded");
  }
  // OpenSSL also wants d mod (p-1) and d mod (q-1); OpenSSH derives them too.
  BnCtxPtr ctx(BN_CTX_new());
  SecretBn p1(BN_new()), q1(BN_new()), dmp1(BN_new()), dmq1(BN_new());
  if (!ctx || !p1 || !q1 || !dmp1 || !dmq1 || BN_sub(p1.get(), v[4].get(), BN_value_one()) != 1 ||
      BN_sub(q1.get(), v[5].get(), BN_value_one()) != 1 || BN_is_zero(p1.get()) || BN_is_zero(q1.get()) ||
      BN_mod(dmp1.get(), v[2].get(), p1.get(), ctx.get()) != 1 ||
      BN_mod(dmq1.get(), v[2].get(), q1.get(), ctx.get()) != 1) {
    return BadKeyFile("holds an RSA key that cannot be loaded");
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, v[0].get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, v[1].get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, v[2].get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, v[4].get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, v[5].get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, v[3].get()) != 1) {
    return BadKeyFile("holds an RSA key that cannot be loaded");
  }
  return FromParams("RSA", bld.get());
}

// The base64 between the armour lines, or nullopt when `text` is not an
// openssh-key-v1 file.
std::optional<std::string_view> OpenSshBody(std::string_view text) {
  std::size_t begin = text.find(kOpenSshBegin);
  if (begin == std::string_view::npos) return std::nullopt;
  std::size_t start = begin + kOpenSshBegin.size();
  std::size_t end = text.find(kOpenSshEnd, start);
  if (end == std::string_view::npos) return std::nullopt;
  return text.substr(start, end - start);
}

struct OpenSshFile {
  std::string cipher;
  std::string kdf;
  Bytes public_blob;
  Bytes private_section;  // still encrypted unless cipher is "none"
};

Result<OpenSshFile> ParseOpenSshContainer(std::string_view body) {
  Bytes raw;
  if (!wire::DecodeBase64(body, raw)) return BadKeyFile("is not valid base64 between its armour lines");
  struct Wiper {
    Bytes& b;
    ~Wiper() { WipeBytes(b.data(), b.size()); }
  } wipe{raw};
  if (raw.size() < kMagic.size() || AsText(ByteView(raw).first(kMagic.size())) != kMagic) {
    return BadKeyFile("is not an openssh-key-v1 key");
  }
  wire::Reader r(ByteView(raw).subspan(kMagic.size()));
  OpenSshFile f;
  auto cipher = r.CString();
  auto kdf = cipher ? r.CString() : cipher;
  auto kdf_options = kdf ? r.String() : tl::unexpected<Error>(kdf.error());
  auto count = kdf_options ? r.U32() : tl::unexpected<Error>(kdf_options.error());
  if (!count) return BadKeyFile("has a truncated header");
  if (*count != 1) return BadKeyFile("holds " + std::to_string(*count) + " keys; a CA key file holds exactly one");
  auto pub = r.String();
  auto priv = pub ? r.String() : pub;
  if (!priv) return BadKeyFile("is truncated");
  if (!r.empty()) return BadKeyFile("has trailing bytes");
  f.cipher = *cipher;
  f.kdf = *kdf;
  if (f.cipher == "none" && (f.kdf != "none" || !kdf_options->empty())) {
    return BadKeyFile("is unencrypted but names a key derivation");
  }
  f.public_blob.assign(pub->begin(), pub->end());
  f.private_section.assign(priv->begin(), priv->end());
  return f;
}

Result<CaSigner> DecodeUnencryptedOpenSsh(OpenSshFile& f) {
  struct Wiper {
    Bytes& b;
    ~Wiper() { WipeBytes(b.data(), b.size()); }
  } wipe{f.private_section};
  auto declared = key::ParsePublicKeyBlob(f.public_blob, {.allow_certificate = false});
  if (!declared) return BadKeyFile("records a public key OpenSSH would not read: " + declared.error().message);
  const ByteView section(f.private_section);
  if (section.size() % kUnencryptedBlockSize != 0) return BadKeyFile("has a private section of a bad length");
  wire::Reader r(section);
  auto check1 = r.U32();
  auto check2 = check1 ? r.U32() : check1;
  if (!check2 || *check1 != *check2) return BadKeyFile("is damaged (its check numbers differ)");
  auto type = r.CString();
  if (!type) return BadKeyFile("has a truncated private key");
  if (*type != declared->type_name()) return BadKeyFile("holds a private key of another type than its public key");
  Result<PkeyPtr> pkey = BadKeyFile("holds a key type keyward does not sign with (Ed25519, ECDSA or RSA)");
  switch (declared->algorithm()) {
    case key::Algorithm::kEd25519: pkey = ReadEd25519(r); break;
    case key::Algorithm::kEcdsa: pkey = ReadEcdsa(r, declared->curve()); break;
    case key::Algorithm::kRsa: pkey = ReadRsa(r); break;
    default: break;
  }
  if (!pkey) return Fail(pkey.error());
  auto comment = r.String();
  if (!comment) return BadKeyFile("has a truncated comment");
  // Padding: 1, 2, 3, ... up to the block size.
  for (std::uint8_t expected = 1; !r.empty(); ++expected) {
    auto b = r.U8();
    if (!b || *b != expected) return BadKeyFile("has bad padding");
  }
  auto signer = CaSigner::FromOpenSslKey(pkey->release());
  if (!signer) return Fail(signer.error());
  if (!signer->public_key().SamePublicKey(*declared)) {
    return BadKeyFile("holds a private key that does not match the public key it records");
  }
  return signer;
}

bool IsPem(std::string_view text) {
  return text.find("-----BEGIN ") != std::string_view::npos &&
         text.find("PRIVATE KEY-----") != std::string_view::npos && !OpenSshBody(text).has_value();
}

bool IsEncryptedPem(std::string_view text) {
  return text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
         text.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* userdata) {
  const auto* passphrase = static_cast<const Secret*>(userdata);
  if (passphrase == nullptr || passphrase->empty() || passphrase->size() > static_cast<std::size_t>(size)) return -1;
  std::memcpy(buf, passphrase->c_str(), passphrase->size());
  return static_cast<int>(passphrase->size());
}

Result<CaSigner> DecodePem(std::string_view text, const Secret* passphrase) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return BadKeyFile("cannot be read (out of memory)");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, PassphraseCallback,
                                              const_cast<Secret*>(passphrase), nullptr, nullptr);
  if (pkey == nullptr) {
    if (IsEncryptedPem(text)) {
      return Fail("bad_passphrase", "the passphrase does not open the CA key (or the key file is damaged)");
    }
    return BadKeyFile("is a PEM file OpenSSL cannot read");
  }
  return CaSigner::FromOpenSslKey(pkey);
}

Result<Secret> EncodeEncryptedPkcs8(const CaSigner& signer, const Secret& passphrase) {
  P8Ptr p8(EVP_PKEY2PKCS8(signer.openssl_key()));
  if (!p8) return Fail("encrypt_failed", "OpenSSL could not encode the CA key");
  // pbe_nid -1: PBES2 with PBKDF2-HMAC-SHA256 and the cipher given; a
  // random salt.
  X509SigPtr encrypted(PKCS8_encrypt_ex(-1, EVP_aes_256_cbc(), passphrase.c_str(), static_cast<int>(passphrase.size()),
                                        nullptr, 0, kPkcs8Iterations, p8.get(), nullptr, nullptr));
  if (!encrypted) return Fail("encrypt_failed", "OpenSSL could not encrypt the CA key");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8(bio.get(), encrypted.get()) != 1) {
    return Fail("encrypt_failed", "OpenSSL could not write the encrypted CA key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return Fail("encrypt_failed", "OpenSSL wrote an empty CA key");
  return Secret(std::string(data, static_cast<std::size_t>(len)));
}

Result<CaSigner> Decode(std::string_view text, const Secret* passphrase, int depth) {
  if (text.size() > kMaxPrivateKeyFileBytes) return BadKeyFile("is larger than any key file");
  if (auto body = OpenSshBody(text)) {
    auto f = ParseOpenSshContainer(*body);
    if (!f) return Fail(f.error());
    if (f->cipher == "none") return DecodeUnencryptedOpenSsh(*f);
    if (passphrase == nullptr || passphrase->empty()) {
      return Fail("passphrase_required", "the CA key is protected by a passphrase; give it with --passphrase-file");
    }
    if (depth > 0) return BadKeyFile("is still encrypted after decryption");
    auto plain = libssh::DecryptKeyFile(text, *passphrase);
    if (!plain) return Fail(plain.error());
    return Decode(plain->view(), nullptr, depth + 1);
  }
  if (IsPem(text)) {
    if (IsEncryptedPem(text) && (passphrase == nullptr || passphrase->empty())) {
      return Fail("passphrase_required", "the CA key is protected by a passphrase; give it with --passphrase-file");
    }
    return DecodePem(text, passphrase);
  }
  return BadKeyFile("is not a private key (neither openssh-key-v1 nor PEM)");
}

}  // namespace

bool LooksLikePrivateKey(std::string_view text) {
  std::size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return false;
  std::string_view first_line = text.substr(start, text.find('\n', start) - start);
  if (first_line.starts_with("-----BEGIN ") && first_line.find("PRIVATE KEY") != std::string_view::npos) return true;
  if (first_line.starts_with("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----")) return true;
  return first_line.starts_with("PuTTY-User-Key-File-");
}

bool IsEncryptedPrivateKey(std::string_view text) {
  if (auto body = OpenSshBody(text)) {
    auto f = ParseOpenSshContainer(*body);
    return f && f->cipher != "none";
  }
  return IsEncryptedPem(text);
}

Result<Secret> EncodeOpenSshPrivateKey(const CaSigner& signer, std::string_view comment) {
  SecretBytes section;
  std::uint32_t check = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof check) != 1) {
    return Fail("random_failed", "OpenSSL could not produce random bytes");
  }
  section.U32(check);
  section.U32(check);
  if (auto ok = WritePrivateFields(signer, section); !ok) return Fail(ok.error());
  section.String(comment);
  for (std::uint8_t pad = 1; section.size() % kUnencryptedBlockSize != 0; ++pad) section.U8(pad);

  SecretBytes file;
  file.Raw(AsBytes(kMagic));
  file.String(std::string_view("none"));  // cipher
  file.String(std::string_view("none"));  // kdf
  file.String(std::string_view());        // kdf options
  file.U32(1);                            // one key
  file.String(signer.public_key().blob());
  file.String(ByteView(section.bytes()));

  Secret base64(wire::EncodeBase64(file.bytes()));
  std::string text;
  text.reserve(base64.size() + base64.size() / kBase64LineLength + 128);
  text.append(kOpenSshBegin);
  text += '\n';
  AppendWrapped(base64.view(), text);
  text.append(kOpenSshEnd);
  text += '\n';
  return Secret(std::move(text));
}

Result<Secret> EncodePrivateKeyFile(const CaSigner& signer, std::string_view comment, const Secret* passphrase) {
  if (passphrase == nullptr || passphrase->empty()) return EncodeOpenSshPrivateKey(signer, comment);
  if (passphrase->size() > kMaxPassphraseBytes) {
    return Fail("bad_passphrase", "the passphrase is longer than " + std::to_string(kMaxPassphraseBytes) + " bytes");
  }
  if (signer.public_key().algorithm() == key::Algorithm::kEd25519) {
    auto plain = EncodeOpenSshPrivateKey(signer, comment);
    if (!plain) return plain;
    return libssh::EncryptEd25519KeyFile(plain->view(), *passphrase);
  }
  return EncodeEncryptedPkcs8(signer, *passphrase);
}

Result<CaSigner> DecodePrivateKeyFile(std::string_view text, const Secret* passphrase) {
  return Decode(text, passphrase, 0);
}

}  // namespace keyward::ca
