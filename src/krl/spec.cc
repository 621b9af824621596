#include "krl/spec.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "wire/base64.h"

namespace keyward::krl {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view SkipBlanks(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && IsBlank(s[i])) ++i;
  return s.substr(i);
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

// The part of a line ssh-keygen looks at: leading blanks skipped, cut at
// '#', trailing blanks dropped (a CR is not a blank, as in ssh-keygen).
std::string_view Significant(std::string_view line) {
  line = SkipBlanks(line);
  line = line.substr(0, line.find('#'));
  std::size_t end = line.size();
  while (end > 0 && IsBlank(line[end - 1])) --end;
  return line.substr(0, end);
}

// strtoull(s, &end, 0), with its errno, on a copy that ends in NUL.
struct Number {
  unsigned long long value = 0;
  std::size_t used = 0;  // characters consumed
  bool out_of_range = false;
};

Number ReadNumber(std::string_view s) {
  std::string copy(s);
  char* end = nullptr;
  errno = 0;
  Number n;
  n.value = std::strtoull(copy.c_str(), &end, 0);
  n.out_of_range = errno == ERANGE && n.value == ULLONG_MAX;
  n.used = static_cast<std::size_t>(end - copy.c_str());
  return n;
}

class SpecReader {
 public:
  SpecReader(std::string_view path, const SpecOptions& options, KrlBuilder& builder)
      : path_(path), options_(options), builder_(builder) {}

  Result<void> Line(std::string_view cp) {
    if (StartsWithNoCase(cp, "serial:")) return Serial(SkipBlanks(cp.substr(7)));
    if (StartsWithNoCase(cp, "id:")) {
      if (auto ok = NeedCa("key ID"); !ok) return ok;
      return builder_.RevokeKeyId(options_.ca, SkipBlanks(cp.substr(3)));
    }
    if (StartsWithNoCase(cp, "hash:")) return Hash(SkipBlanks(cp.substr(5)));
    enum { kBare, kExplicit, kSha1, kSha256 } how = kBare;
    if (StartsWithNoCase(cp, "key:")) {
      how = kExplicit;
      cp = SkipBlanks(cp.substr(4));
    } else if (StartsWithNoCase(cp, "sha1:")) {
      how = kSha1;
      cp = SkipBlanks(cp.substr(5));
    } else if (StartsWithNoCase(cp, "sha256:")) {
      how = kSha256;
      cp = SkipBlanks(cp.substr(7));
    }
    auto key = key::ReadKeyText(cp);
    if (!key) return Bad("invalid key: " + key.error().message);
    switch (how) {
      case kExplicit:
        builder_.RevokeKeyExplicit(key->key);
        return {};
      case kSha1:
        builder_.RevokeKeySha1(key->key);
        return {};
      case kSha256:
        builder_.RevokeKeySha256(key->key);
        return {};
      case kBare:
        break;
    }
    if (auto ok = builder_.RevokeKey(key->key); !ok) return Bad(ok.error().message);
    return {};
  }

  void set_line(unsigned long number) { line_ = number; }

 private:
  tl::unexpected<Error> Bad(std::string what) const {
    return Fail("bad_spec", std::string(path_) + ":" + std::to_string(line_) + ": " + std::move(what));
  }

  Result<void> NeedCa(std::string_view by) const {
    if (options_.ca != nullptr || options_.any_ca) return {};
    return Bad("revoking certificates by " + std::string(by) +
               " requires specification of a CA key: give the CA's public key (--ca CA.pub), or --ca none for "
               "certificates of any CA");
  }

  Result<void> Serial(std::string_view cp) {
    if (auto ok = NeedCa("serial number"); !ok) return ok;
    Number lo = ReadNumber(cp);
    std::string_view rest = cp.substr(lo.used);
    if (cp.empty() || (!rest.empty() && rest[0] != '-')) return Bad("invalid serial \"" + std::string(cp) + "\"");
    if (lo.out_of_range) return Bad("serial out of range");
    unsigned long long hi = lo.value;
    if (!rest.empty()) {
      std::string_view second = rest.substr(1);
      Number n = ReadNumber(second);
      if (second.empty() || n.used != second.size()) return Bad("invalid serial \"" + std::string(second) + "\"");
      if (n.out_of_range) return Bad("serial out of range");
      hi = n.value;
      if (hi <= lo.value) {
        return Bad("invalid serial range " + std::to_string(lo.value) + ":" + std::to_string(hi));
      }
    }
    if (auto ok = builder_.RevokeSerials(options_.ca, lo.value, hi); !ok) return Bad(ok.error().message);
    return {};
  }

  Result<void> Hash(std::string_view cp) {
    if (!cp.starts_with("SHA256:")) return Bad("unsupported hash algorithm (only SHA256:... fingerprints)");
    std::string text(cp.substr(7));
    // Fingerprints are printed without base64's padding.
    while (text.size() % 4 != 0) text.push_back('=');
    Bytes digest;
    if (auto ok = wire::DecodeBase64(text, digest); !ok) return Bad("decode hash failed: " + ok.error().message);
    if (digest.size() != 32) {
      return Bad("a SHA256 fingerprint is 32 bytes, this one " + std::to_string(digest.size()));
    }
    Sha256Digest d;
    std::memcpy(d.data(), digest.data(), d.size());
    builder_.RevokeSha256(d);
    return {};
  }

  std::string_view path_;
  const SpecOptions& options_;
  KrlBuilder& builder_;
  unsigned long line_ = 0;
};

}  // namespace

Result<void> ApplySpec(std::string_view text, std::string_view path, const SpecOptions& options, KrlBuilder& builder) {
  SpecReader reader(path, options, builder);
  unsigned long number = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++number;
    // ssh-keygen handles each line as a C string: it ends at a NUL.
    line = line.substr(0, line.find('\0'));
    std::string_view cp = Significant(line);
    if (cp.empty()) continue;
    reader.set_line(number);
    if (auto ok = reader.Line(cp); !ok) return ok;
  }
  return {};
}

}  // namespace keyward::krl
