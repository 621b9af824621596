#include "krl/parse.h"

#include <cstring>
#include <string_view>
#include <utility>

#include "key/crypto.h"
#include "krl/check.h"
#include "krl/cursor.h"
#include "krl/openssh_reason.h"

namespace keyward::krl {

namespace {

using internal::Cursor;
using internal::ReadError;
using internal::SshErrText;

std::string SectionName(std::uint8_t type) {
  switch (type) {
    case kSectionCertificates:
      return "certificates";
    case kSectionExplicitKey:
      return "explicit keys";
    case kSectionFingerprintSha1:
      return "SHA1 hashes";
    case kSectionSignature:
      return "signature";
    case kSectionFingerprintSha256:
      return "SHA256 hashes";
    default:
      return "unknown type " + std::to_string(type);
  }
}

class Parser {
 public:
  Parser(ByteView data, OpenSshRefusal* refusal) : data_(data), refusal_(refusal) {}

  Result<Krl> Run() {
    if (data_.size() < kMagic.size() || AsText(data_.first(kMagic.size())) != kMagic) {
      return Refuse("krl_bad_magic", "the file is not a KRL (it does not start with \"SSHKRL\")",
                    "KRL file has invalid magic number");
    }
    Cursor c(data_, kMagic.size());
    Krl header;
    std::uint32_t format = 0;
    if (auto e = c.U32(format); e != ReadError::kNone) return ReadFailure(e, "the header (format version)");
    if (format != kFormatVersion) {
      return Refuse("krl_bad_format",
                    "the KRL has format version " + std::to_string(format) + "; OpenSSH and keyward read only version 1",
                    "invalid format");
    }
    ByteView reserved;
    std::string_view comment;
    ReadError e = c.U64(header.version);
    if (e == ReadError::kNone) e = c.U64(header.generated_date);
    if (e == ReadError::kNone) e = c.U64(header.flags);
    if (e == ReadError::kNone) e = c.String(reserved);
    if (e == ReadError::kNone) e = c.CString(comment);
    if (e != ReadError::kNone) return ReadFailure(e, "the header");
    header.comment.assign(comment);
    const std::size_t sections_start = c.offset();

    if (auto ok = VerifySignatures(sections_start); !ok) return Fail(ok.error());
    if (auto ok = ReadSections(sections_start); !ok) return Fail(ok.error());

    Krl krl = std::move(builder_).Finish();
    krl.version = header.version;
    krl.generated_date = header.generated_date;
    krl.flags = header.flags;
    krl.comment = std::move(header.comment);

    // A KRL signed only by keys it revokes is refused.
    if (!signers_.empty()) {
      bool any_good = false;
      for (const auto& s : signers_) {
        if (!IsRevoked(krl, s)) any_good = true;
      }
      if (!any_good) {
        return Refuse("krl_signer_revoked", "every key that signed the KRL is revoked by it", "Key is revoked",
                      "All keys used to sign KRL were revoked");
      }
      for (const auto& s : signers_) krl.signing_keys.push_back(CaKeyBlob(s));
    }
    return krl;
  }

 private:
  tl::unexpected<Error> Refuse(std::string code, std::string message, std::string reason, std::string log = {}) {
    if (refusal_ != nullptr) {
      if (!log.empty()) refusal_->log.push_back(std::move(log));
      refusal_->reason = std::move(reason);
    }
    return Fail(std::move(code), std::move(message));
  }

  tl::unexpected<Error> ReadFailure(ReadError e, const std::string& where) {
    switch (e) {
      case ReadError::kIncomplete:
        return Refuse("krl_truncated",
                      "the KRL ends inside " + where +
                          ": the file is torn or cut short; write it again (keyward krl build) or copy it again",
                      SshErrText(e));
      case ReadError::kStringTooLarge:
        return Refuse("krl_bad_format", "a length in " + where + " is larger than OpenSSH allows", SshErrText(e));
      case ReadError::kNulInString:
        return Refuse("krl_bad_format", "a text field in " + where + " holds a NUL byte", SshErrText(e));
      case ReadError::kBignumNegative:
      case ReadError::kBignumTooLarge:
        return Refuse("krl_bad_format",
                      "a serial bitmap in " + where + " is negative or longer than the 16384 bits OpenSSH reads",
                      SshErrText(e));
      case ReadError::kNone:
        break;
    }
    return Refuse("krl_bad_format", "internal error reading " + where, "invalid format");
  }

  std::string Where(std::size_t index, std::uint8_t type) const {
    return "section " + std::to_string(index + 1) + " (" + SectionName(type) + ")";
  }

  // The first pass of ssh_krl_from_blob(): the framing of every section,
  // and the signatures.
  Result<void> VerifySignatures(std::size_t start) {
    Cursor c(data_, start);
    bool seen_signature = false;
    for (std::size_t index = 0; !c.empty(); ++index) {
      std::uint8_t type = 0;
      ByteView body;
      ReadError e = c.U8(type);
      if (e == ReadError::kNone) e = c.String(body);
      if (e != ReadError::kNone) return ReadFailure(e, "section " + std::to_string(index + 1));
      if (type != kSectionSignature) {
        if (seen_signature) {
          return Refuse("krl_bad_format", "the KRL has a " + SectionName(type) + " section after a signature",
                        "invalid format", "KRL contains non-signature section after signature");
        }
        continue;
      }
      seen_signature = true;
      auto signer = key::ParsePublicKeyBlob(Bytes(body.begin(), body.end()));
      if (!signer || !KnownToOpenSsh92(*signer)) {
        return Refuse("krl_bad_signature",
                      "the signing key of " + Where(index, type) + " is not a valid key" +
                          (signer ? std::string(" to OpenSSH 9.2") : ": " + signer.error().message),
                      "invalid format");
      }
      const std::size_t signed_length = c.offset();
      ByteView signature;
      if (c.String(signature) != ReadError::kNone) {
        return Refuse("krl_truncated", "the KRL ends inside the signature of " + Where(index, type), "invalid format");
      }
      if (signature.empty() || signature.size() > kMaxSignatureBytes) {
        return Refuse("krl_bad_signature", "the signature of " + Where(index, type) + " is empty or too large",
                      "invalid argument");
      }
      if (auto ok = key::VerifySignature(*signer, signature, data_.first(signed_length)); !ok) {
        return Refuse("krl_bad_signature",
                      "the signature of " + Where(index, type) + " does not verify: the KRL was changed after it "
                                                                  "was signed, or is corrupt",
                      SignatureReason(*signer, signature));
      }
      Bytes id = CaKeyBlob(*signer);
      for (const auto& s : signers_) {
        if (Equal(CaKeyBlob(s), id)) {
          return Refuse("krl_bad_format", "the KRL is signed twice by the same key", "invalid format",
                        "KRL signed more than once with the same key");
        }
      }
      signers_.push_back(std::move(*signer));
    }
    return {};
  }

  // The second pass: what each section revokes.
  Result<void> ReadSections(std::size_t start) {
    Cursor c(data_, start);
    for (std::size_t index = 0; !c.empty(); ++index) {
      std::uint8_t type = 0;
      ByteView body;
      ReadError e = c.U8(type);
      if (e == ReadError::kNone) e = c.String(body);
      if (e != ReadError::kNone) return ReadFailure(e, "section " + std::to_string(index + 1));
      switch (type) {
        case kSectionCertificates:
          if (auto ok = ReadCertificates(body, Where(index, type)); !ok) return ok;
          break;
        case kSectionExplicitKey:
        case kSectionFingerprintSha1:
        case kSectionFingerprintSha256:
          if (auto ok = ReadBlobs(body, type, Where(index, type)); !ok) return ok;
          break;
        case kSectionSignature: {
          ByteView signature;  // checked in the first pass
          if (c.String(signature) != ReadError::kNone) return ReadFailure(ReadError::kIncomplete, Where(index, type));
          break;
        }
        default:
          return Refuse("krl_bad_format",
                        "the KRL has a section of unknown type " + std::to_string(type) +
                            " (OpenSSH 9.2 knows 1 to 5); it was written by a newer or a broken program",
                        "invalid format", "Unsupported KRL section " + std::to_string(type));
      }
    }
    return {};
  }

  Result<void> ReadBlobs(ByteView body, std::uint8_t type, const std::string& where) {
    const std::size_t want = type == kSectionFingerprintSha1 ? 20 : type == kSectionFingerprintSha256 ? 32 : 0;
    Cursor c(body);
    while (!c.empty()) {
      ByteView blob;
      if (auto e = c.String(blob); e != ReadError::kNone) return ReadFailure(e, where);
      if (want != 0 && blob.size() != want) {
        return Refuse("krl_bad_format",
                      "a hash in " + where + " is " + std::to_string(blob.size()) + " bytes, not " +
                          std::to_string(want),
                      "invalid format", "blob_section: bad length");
      }
      if (type == kSectionExplicitKey) {
        builder_.RevokeBlob(blob);
      } else if (type == kSectionFingerprintSha1) {
        Sha1Digest d;
        std::memcpy(d.data(), blob.data(), d.size());
        builder_.RevokeSha1(d);
      } else {
        Sha256Digest d;
        std::memcpy(d.data(), blob.data(), d.size());
        builder_.RevokeSha256(d);
      }
    }
    return {};
  }

  Result<void> Revoked(Result<void> ok, const std::string& where) {
    if (ok) return ok;
    if (ok.error().code == "krl_too_many_serials") {
      return Refuse(ok.error().code, ok.error().message, "invalid format");
    }
    return Refuse("krl_bad_serial", where + ": " + ok.error().message, "invalid argument");
  }

  Result<void> ReadCertificates(ByteView body, const std::string& where) {
    Cursor c(body);
    ByteView ca_blob, reserved;
    ReadError e = c.String(ca_blob);
    if (e == ReadError::kNone) e = c.String(reserved);
    if (e != ReadError::kNone) return ReadFailure(e, where);
    Bytes ca;
    if (!ca_blob.empty()) {
      auto key = key::ParsePublicKeyBlob(Bytes(ca_blob.begin(), ca_blob.end()));
      // OpenSSH 9.2 refuses what keyward refuses, and a few keys keyward
      // reads but 9.2 does not know (ML-DSA): KeyBlobReason says which.
      auto why = KeyBlobReason(ca_blob, key ? nullptr : &key.error());
      if (!key || why) {
        return Refuse("krl_bad_ca_key",
                      "the CA key of " + where + " is not a valid key: " +
                          (key ? std::string("OpenSSH 9.2 does not know its type") : key.error().message),
                      *why);
      }
      ca = CaKeyBlob(*key);
    }
    while (!c.empty()) {
      std::uint8_t type = 0;
      ByteView sub;
      e = c.U8(type);
      if (e == ReadError::kNone) e = c.String(sub);
      if (e != ReadError::kNone) return ReadFailure(e, where);
      Cursor s(sub);
      switch (type) {
        case kSubsectionSerialList:
          while (!s.empty()) {
            std::uint64_t serial = 0;
            if (auto re = s.U64(serial); re != ReadError::kNone) return ReadFailure(re, where + ", a serial list");
            if (auto ok = Revoked(builder_.RevokeSerialsUnder(ca, serial, serial), where); !ok) return ok;
          }
          break;
        case kSubsectionSerialRange: {
          std::uint64_t lo = 0, hi = 0;
          ReadError re = s.U64(lo);
          if (re == ReadError::kNone) re = s.U64(hi);
          if (re != ReadError::kNone) return ReadFailure(re, where + ", a serial range");
          if (auto ok = Revoked(builder_.RevokeSerialsUnder(ca, lo, hi), where); !ok) return ok;
          break;
        }
        case kSubsectionSerialBitmap: {
          std::uint64_t lo = 0;
          ByteView bits;
          ReadError re = s.U64(lo);
          if (re == ReadError::kNone) re = s.Bignum(bits);
          if (re != ReadError::kNone) return ReadFailure(re, where + ", a serial bitmap");
          if (auto ok = ReadBitmap(ca, lo, bits, where); !ok) return ok;
          break;
        }
        case kSubsectionKeyId:
          while (!s.empty()) {
            std::string_view id;
            if (auto re = s.CString(id); re != ReadError::kNone) return ReadFailure(re, where + ", key IDs");
            if (auto ok = builder_.RevokeKeyIdUnder(ca, id); !ok) return Revoked(ok, where);
          }
          break;
        default:
          return Refuse("krl_bad_format",
                        where + " has a subsection of unknown type " + std::to_string(type) +
                            " (OpenSSH 9.2 knows 32 to 35)",
                        "invalid format", "Unsupported KRL certificate section " + std::to_string(type));
      }
      if (!s.empty()) {
        return Refuse("krl_bad_format", where + " has bytes left over after a subsection", "invalid format",
                      "KRL certificate section contains unparsed data");
      }
    }
    return {};
  }

  // A bitmap: bit i of the number is serial lo + i.
  Result<void> ReadBitmap(ByteView ca, std::uint64_t lo, ByteView magnitude, const std::string& where) {
    if (magnitude.empty()) return {};
    std::uint64_t nbits = (magnitude.size() - 1) * 8;
    for (unsigned top = magnitude[0]; top != 0; top >>= 1) ++nbits;
    if (lo == 0 && (magnitude.back() & 1) != 0) {
      return Revoked(builder_.RevokeSerialsUnder(ca, 0, 0), where);
    }
    // OpenSSH refuses a bitmap whose positions run past serial 2^64 - 1,
    // set or not.
    if (lo != 0 && (0 - lo) < nbits) {
      return Refuse("krl_bad_format", where + " has a serial bitmap that runs past the largest serial",
                    "invalid format", "parse_revoked_certs: bitmap wraps u64");
    }
    const std::size_t nbytes = magnitude.size();
    bool in_run = false;
    std::uint64_t run_start = 0;
    auto close = [&](std::uint64_t end) -> Result<void> {
      in_run = false;
      return Revoked(builder_.RevokeSerialsUnder(ca, lo + run_start, lo + end), where);
    };
    for (std::size_t k = 0; k < nbytes; ++k) {
      const unsigned byte = magnitude[nbytes - 1 - k];
      const std::uint64_t base = std::uint64_t{k} * 8;
      if (byte == 0 || byte == 0xff) {
        if (byte == 0 && in_run) {
          if (auto ok = close(base - 1); !ok) return ok;
        } else if (byte == 0xff && !in_run) {
          in_run = true;
          run_start = base;
        }
        continue;
      }
      for (unsigned bit = 0; bit < 8; ++bit) {
        const bool set = ((byte >> bit) & 1) != 0;
        if (set && !in_run) {
          in_run = true;
          run_start = base + bit;
        } else if (!set && in_run) {
          if (auto ok = close(base + bit - 1); !ok) return ok;
        }
      }
    }
    if (in_run) return close(std::uint64_t{nbytes} * 8 - 1);
    return {};
  }

  ByteView data_;
  OpenSshRefusal* refusal_;
  KrlBuilder builder_;
  std::vector<key::PublicKey> signers_;
};

}  // namespace

Result<Krl> ParseKrl(ByteView data, OpenSshRefusal* refusal) {
  if (data.size() > kMaxKrlBytes) {
    if (refusal != nullptr) refusal->reason = "invalid format";
    return Fail("krl_too_large", "the KRL is " + std::to_string(data.size()) + " bytes; OpenSSH and keyward read at most " +
                                     std::to_string(kMaxKrlBytes));
  }
  return Parser(data, refusal).Run();
}

}  // namespace keyward::krl
