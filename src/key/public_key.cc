#include "key/public_key.h"

#include <string>
#include <utility>

#include "key/crypto.h"
#include "wire/base64.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace keyward::key {

namespace {

tl::unexpected<Error> Invalid(std::string what) {
  return Fail("invalid_key", "the key is malformed: " + std::move(what));
}

tl::unexpected<Error> Truncated(const Error& inner, std::string_view field) {
  return Fail(wire::FieldError(inner, field));
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

// Walks one blob and fills a PublicKey. A class so that it can be the one
// friend of PublicKey that sets its fields.
class BlobParser {
 public:
  BlobParser(Bytes blob, BlobOptions options) : options_(options) { key_.blob_ = std::move(blob); }

  Result<PublicKey> Run() {
    if (key_.blob_.size() > kMaxKeyBlobBytes) {
      return Fail("key_too_large", "the key is " + std::to_string(key_.blob_.size()) + " bytes; keyward reads at most " +
                                       std::to_string(kMaxKeyBlobBytes));
    }
    wire::Reader r(key_.blob_);
    auto name = CString(r);
    if (!name) return Truncated(name.error(), "key type");
    const KeyTypeInfo* declared = FindKeyType(*name);
    if (declared == nullptr) {
      return Fail("unknown_key_type", "unknown key type \"" + std::string(name->substr(0, 64)) +
                                          "\" inside the key; it is not a type OpenSSH reads");
    }
    if (declared->certificate && !options_.allow_certificate) {
      return Fail("certificate_not_allowed", "a certificate is not allowed here; give a plain public key");
    }
    key_.type_ = &CanonicalKeyType(declared->algorithm, declared->curve, declared->certificate);
    if (declared != key_.type_) canonical_ = false;

    if (declared->certificate) {
      auto cert = std::make_shared<Certificate>();
      auto nonce = r.String();
      if (!nonce) return Truncated(nonce.error(), "certificate nonce");
      cert->nonce.assign(nonce->begin(), nonce->end());
      if (auto ok = ReadKeyFields(r); !ok) return Fail(ok.error());
      if (auto ok = ReadCertificateFields(r, *cert); !ok) return Fail(ok.error());
      key_.cert_ = std::move(cert);
    } else {
      if (auto ok = ReadKeyFields(r); !ok) return Fail(ok.error());
    }
    if (!r.empty()) {
      return Fail("trailing_data", "the key has " + std::to_string(r.remaining()) +
                                       " unexpected bytes at its end; copy the key again");
    }
    if (key_.cert_ != nullptr || !canonical_) BuildPlainBlob();
    return std::move(key_);
  }

 private:
  PublicKey::Slice SliceOf(ByteView v) const {
    return {static_cast<std::uint32_t>(v.data() - key_.blob_.data()), static_cast<std::uint32_t>(v.size())};
  }

  // A cstring, remembering when it was written with the trailing NUL that
  // OpenSSH tolerates (the canonical blob has none).
  Result<std::string_view> CString(wire::Reader& r) {
    std::size_t before = r.offset();
    auto v = r.CString();
    if (v && r.offset() - before != 4 + v->size()) canonical_ = false;
    return v;
  }

  // An mpint, remembering when its encoding was not the shortest.
  Result<ByteView> MPInt(wire::Reader& r, std::string_view field) {
    std::size_t before = r.offset();
    auto v = r.MPInt();
    if (!v) return Truncated(v.error(), field);
    std::size_t minimal = 4 + v->size() + ((!v->empty() && ((*v)[0] & 0x80) != 0) ? 1 : 0);
    if (r.offset() - before != minimal) canonical_ = false;
    return *v;
  }

  Result<void> ReadKeyFields(wire::Reader& r) {
    switch (key_.type_->algorithm) {
      case Algorithm::kRsa: {
        auto e = MPInt(r, "RSA exponent");
        if (!e) return Fail(e.error());
        auto n = MPInt(r, "RSA modulus");
        if (!n) return Fail(n.error());
        key_.f_[0] = SliceOf(*e);
        key_.f_[1] = SliceOf(*n);
        key_.bits_ = BitLength(*n);
        if (key_.bits_ < kMinRsaBitsOpenSsh) {
          return Fail("rsa_too_small", "the RSA key has " + std::to_string(key_.bits_) +
                                           " bits; OpenSSH refuses RSA keys under 1024 bits");
        }
        return {};
      }
      case Algorithm::kDsa: {
        const char* names[4] = {"DSA p", "DSA q", "DSA g", "DSA public value"};
        for (int i = 0; i < 4; ++i) {
          auto v = MPInt(r, names[i]);
          if (!v) return Fail(v.error());
          key_.f_[i] = SliceOf(*v);
        }
        key_.bits_ = BitLength(key_.dsa_p());
        return {};
      }
      case Algorithm::kEcdsa:
      case Algorithm::kEcdsaSk: {
        auto curve = CString(r);
        if (!curve) return Truncated(curve.error(), "curve name");
        if (CurveFromIdentifier(*curve) != key_.type_->curve) {
          return Fail("curve_mismatch", "the key's curve \"" + std::string(curve->substr(0, 32)) +
                                            "\" does not match its type " + std::string(key_.type_->name));
        }
        auto point = r.String();
        if (!point) return Truncated(point.error(), "EC point");
        if (auto ok = ValidateEcPoint(key_.type_->curve, *point); !ok) return Fail(ok.error());
        key_.f_[0] = SliceOf(*point);
        key_.bits_ = CurveBits(key_.type_->curve);
        break;
      }
      case Algorithm::kEd25519:
      case Algorithm::kEd25519Sk: {
        auto pk = r.String();
        if (!pk) return Truncated(pk.error(), "Ed25519 key");
        if (pk->size() != kEd25519KeyBytes) {
          return Invalid("an Ed25519 key is 32 bytes, this one is " + std::to_string(pk->size()));
        }
        key_.f_[0] = SliceOf(*pk);
        key_.bits_ = 256;
        break;
      }
      case Algorithm::kMlDsa44Ed25519: {
        auto pk = r.String();
        if (!pk) return Truncated(pk.error(), "ML-DSA-44+Ed25519 key");
        if (pk->size() != kMlDsa44Ed25519KeyBytes) {
          return Invalid("an ML-DSA-44+Ed25519 key is 1344 bytes, this one is " + std::to_string(pk->size()));
        }
        key_.f_[0] = SliceOf(*pk);
        key_.bits_ = 256;
        return {};
      }
    }
    if (key_.type_->algorithm == Algorithm::kEcdsaSk || key_.type_->algorithm == Algorithm::kEd25519Sk) {
      auto app = CString(r);
      if (!app) return Truncated(app.error(), "security key application");
      key_.application_ = SliceOf(AsBytes(*app));
    }
    return {};
  }

  Result<std::vector<CertOption>> ReadCertOptions(ByteView section, std::string_view what) {
    std::vector<CertOption> out;
    wire::Reader r(section);
    while (!r.empty()) {
      if (out.size() >= kMaxCertOptions) return Invalid("too many certificate " + std::string(what));
      auto name = r.CString();
      if (!name) return Truncated(name.error(), std::string("certificate ") + std::string(what));
      auto data = r.String();
      if (!data) return Truncated(data.error(), std::string("certificate ") + std::string(what));
      out.push_back(CertOption{std::string(*name), Bytes(data->begin(), data->end())});
    }
    return out;
  }

  Result<void> ReadCertificateFields(wire::Reader& r, Certificate& c) {
    auto serial = r.U64();
    if (!serial) return Truncated(serial.error(), "certificate serial");
    auto type = r.U32();
    if (!type) return Truncated(type.error(), "certificate type");
    auto key_id = r.CString();
    if (!key_id) return Truncated(key_id.error(), "certificate key id");
    auto principals = r.String();
    if (!principals) return Truncated(principals.error(), "certificate principals");
    auto valid_after = r.U64();
    if (!valid_after) return Truncated(valid_after.error(), "certificate valid-after");
    auto valid_before = r.U64();
    if (!valid_before) return Truncated(valid_before.error(), "certificate valid-before");
    auto critical = r.String();
    if (!critical) return Truncated(critical.error(), "certificate critical options");
    auto extensions = r.String();
    if (!extensions) return Truncated(extensions.error(), "certificate extensions");
    auto reserved = r.String();
    if (!reserved) return Truncated(reserved.error(), "certificate reserved");
    auto ca = r.String();
    if (!ca) return Truncated(ca.error(), "certificate signature key");
    c.signed_length = r.offset();
    auto signature = r.String();
    if (!signature) return Truncated(signature.error(), "certificate signature");

    if (*type != static_cast<std::uint32_t>(CertType::kUser) && *type != static_cast<std::uint32_t>(CertType::kHost)) {
      return Fail("unknown_cert_type", "the certificate's type " + std::to_string(*type) +
                                           " is neither user (1) nor host (2)");
    }
    c.serial = *serial;
    c.type = static_cast<CertType>(*type);
    c.key_id = std::string(*key_id);
    c.valid_after = *valid_after;
    c.valid_before = *valid_before;
    c.reserved.assign(reserved->begin(), reserved->end());
    c.signature.assign(signature->begin(), signature->end());

    wire::Reader pr(*principals);
    while (!pr.empty()) {
      if (c.principals.size() >= kMaxCertPrincipals) {
        return Invalid("the certificate has more than " + std::to_string(kMaxCertPrincipals) + " principals");
      }
      auto p = pr.CString();
      if (!p) return Truncated(p.error(), "certificate principals");
      c.principals.emplace_back(*p);
    }
    auto crit = ReadCertOptions(*critical, "critical options");
    if (!crit) return Fail(crit.error());
    c.critical_options = std::move(*crit);
    auto exts = ReadCertOptions(*extensions, "extensions");
    if (!exts) return Fail(exts.error());
    c.extensions = std::move(*exts);

    BlobOptions ca_options;
    ca_options.allow_certificate = false;
    auto ca_key = ParsePublicKeyBlob(Bytes(ca->begin(), ca->end()), ca_options);
    if (!ca_key) {
      return Fail("bad_cert_signer", "the certificate's signing (CA) key is invalid: " + ca_key.error().message);
    }
    if (ca_key->algorithm() == Algorithm::kMlDsa44Ed25519) {
      return Fail("bad_cert_signer", "the certificate's CA key type is not one OpenSSH 9 accepts as a CA");
    }
    c.signature_key = std::make_shared<const PublicKey>(std::move(*ca_key));

    wire::Reader sr(c.signature);
    auto sig_alg = sr.CString();
    if (!sig_alg) return Truncated(sig_alg.error(), "certificate signature");
    c.signature_algorithm = std::string(*sig_alg);
    if (options_.verify_certificate) {
      ByteView signed_part = ByteView(key_.blob_).first(c.signed_length);
      if (auto ok = VerifySignature(*c.signature_key, c.signature, signed_part); !ok) {
        return Fail("bad_cert_signature", "the certificate's signature is invalid (" + ok.error().message +
                                              "); it was altered or damaged");
      }
    }
    return {};
  }

  // The canonical plain key: type name without "-cert-v01", then the key
  // fields in shortest form.
  void BuildPlainBlob() {
    const KeyTypeInfo& plain = CanonicalKeyType(key_.type_->algorithm, key_.type_->curve, false);
    wire::Writer w;
    w.String(plain.name);
    switch (plain.algorithm) {
      case Algorithm::kRsa:
        w.MPInt(key_.rsa_e());
        w.MPInt(key_.rsa_n());
        break;
      case Algorithm::kDsa:
        w.MPInt(key_.dsa_p());
        w.MPInt(key_.dsa_q());
        w.MPInt(key_.dsa_g());
        w.MPInt(key_.dsa_y());
        break;
      case Algorithm::kEcdsa:
      case Algorithm::kEcdsaSk:
        w.String(CurveIdentifier(plain.curve));
        w.String(key_.ec_point());
        break;
      case Algorithm::kEd25519:
      case Algorithm::kEd25519Sk:
      case Algorithm::kMlDsa44Ed25519:
        w.String(key_.raw_key());
        break;
    }
    if (plain.algorithm == Algorithm::kEcdsaSk || plain.algorithm == Algorithm::kEd25519Sk) {
      w.String(key_.sk_application());
    }
    key_.plain_ = w.Take();
  }

  BlobOptions options_;
  PublicKey key_;
  bool canonical_ = true;
};

Result<PublicKey> ParsePublicKeyBlob(Bytes blob, BlobOptions options) {
  return BlobParser(std::move(blob), options).Run();
}

std::string PublicKey::ToText() const {
  std::string out(type_name());
  out.push_back(' ');
  // A certificate is kept as signed; a plain key is written canonically.
  out += wire::EncodeBase64(is_certificate() ? ByteView(blob_) : plain_blob());
  return out;
}

Result<KeyText> ReadKeyText(std::string_view text) {
  std::size_t type_end = 0;
  while (type_end < text.size() && !IsBlank(text[type_end])) ++type_end;
  if (type_end == text.size()) {
    return Fail("no_key", "expected a key type, then a blank, then the base64 key");
  }
  std::string_view type_name = text.substr(0, type_end);
  const KeyTypeInfo* line_type = FindKeyType(type_name);
  if (line_type == nullptr) {
    return Fail("unknown_key_type", "\"" + std::string(type_name.substr(0, 64)) +
                                        "\" is not a key type OpenSSH knows (ssh-ed25519, ecdsa-sha2-nistp256, "
                                        "ssh-rsa, ...)");
  }
  std::size_t blob_start = type_end;
  while (blob_start < text.size() && IsBlank(text[blob_start])) ++blob_start;
  if (blob_start == text.size()) return Fail("no_key", "the key type is not followed by the base64 key");
  std::size_t blob_end = blob_start;
  while (blob_end < text.size() && !IsBlank(text[blob_end])) ++blob_end;

  // A named limit before decoding: base64 grows data by a third.
  if (blob_end - blob_start > kMaxKeyBlobBytes / 3 * 4 + 4) {
    return Fail("key_too_large", "the base64 key is longer than keyward's limit of " +
                                     std::to_string(kMaxKeyBlobBytes) + " bytes");
  }
  Bytes blob;
  if (auto ok = wire::DecodeBase64(text.substr(blob_start, blob_end - blob_start), blob); !ok) {
    return Fail(ok.error());
  }
  auto key = ParsePublicKeyBlob(std::move(blob));
  if (!key) return Fail(key.error());
  if (key->algorithm() != line_type->algorithm || key->is_certificate() != line_type->certificate ||
      (line_type->algorithm == Algorithm::kEcdsa && key->curve() != line_type->curve)) {
    return Fail("type_mismatch", "the line says \"" + std::string(type_name) + "\" but the key inside is " +
                                     std::string(key->type_name()) + "; the line was edited or mixed up");
  }
  std::size_t comment = blob_end;
  while (comment < text.size() && IsBlank(text[comment])) ++comment;
  return KeyText{std::move(*key), comment};
}

}  // namespace keyward::key
