#include "krl/public_key_file.h"

#include "fs/read_file.h"
#include "krl/openssh_reason.h"

namespace keyward::krl {

std::optional<PublicKeyInFile> FirstPublicKey(std::string_view content) {
  while (!content.empty()) {
    std::size_t nl = content.find('\n');
    // The line as getline() gives it, line break included.
    std::string_view line = content.substr(0, nl == std::string_view::npos ? nl : nl + 1);
    content = nl == std::string_view::npos ? std::string_view() : content.substr(nl + 1);
    // OpenSSH works on a C string: a NUL ends the line.
    line = line.substr(0, line.find('\0'));
    if (line.empty() || line[0] == '#' || line[0] == '\n') continue;
    if (line.starts_with("-----BEGIN")) return std::nullopt;
    std::size_t start = 0;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    std::string_view cp = line.substr(start);
    if (cp.empty()) continue;
    auto read = key::ReadKeyText(cp);
    // A line OpenSSH 9.2 cannot read is skipped, as it skips it.
    if (!read || !KnownToOpenSsh92(read->key)) continue;
    std::string_view comment = cp.substr(read->comment_offset);
    comment = comment.substr(0, comment.find_first_of("\r\n"));
    return PublicKeyInFile{std::move(read->key), std::string(comment)};
  }
  return std::nullopt;
}

bool LooksLikePrivateKey(std::string_view content) {
  return content.find("-----BEGIN") != std::string_view::npos && content.find("PRIVATE KEY") != std::string_view::npos;
}

Result<LoadedPublicKey> LoadPublicKeyFile(const std::string& path) {
  std::string why;
  bool private_key = false;
  for (const std::string& candidate : {path, path + ".pub"}) {
    auto text = fs::ReadFileOrStdin(candidate);
    if (!text) {
      if (why.empty()) why = text.error().message;
      continue;
    }
    if (auto found = FirstPublicKey(*text)) return LoadedPublicKey{std::move(*found), candidate};
    if (LooksLikePrivateKey(*text)) private_key = true;
    if (why.empty()) why = candidate + " holds no public key";
  }
  if (private_key) why = path + " is a private key and " + path + ".pub does not hold its public key";
  return Fail("no_public_key", "cannot load a public key from " + path + ": " + why);
}

}  // namespace keyward::krl
