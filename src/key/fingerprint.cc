#include "key/fingerprint.h"

#include "key/crypto.h"
#include "wire/base64.h"

namespace keyward::key {

namespace {

void AppendSha256(ByteView blob, std::string& out) {
  auto digest = Sha256(blob);
  out.append("SHA256:");
  wire::AppendBase64Unpadded(digest, out);
}

}  // namespace

void AppendFingerprint(const PublicKey& key, FingerprintHash hash, std::string& out) {
  if (hash == FingerprintHash::kSha256) {
    AppendSha256(key.plain_blob(), out);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  auto digest = Md5(key.plain_blob());
  out.append("MD5:");
  for (std::size_t i = 0; i < digest.size(); ++i) {
    if (i != 0) out.push_back(':');
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
}

std::string Fingerprint(const PublicKey& key, FingerprintHash hash) {
  std::string out;
  AppendFingerprint(key, hash, out);
  return out;
}

std::string Sha256FingerprintOfBlob(ByteView plain_blob) {
  std::string out;
  AppendSha256(plain_blob, out);
  return out;
}

}  // namespace keyward::key
