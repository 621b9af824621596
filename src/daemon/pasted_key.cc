#include "daemon/pasted_key.h"

#include "authkeys/line.h"
#include "ca/private_key_file.h"

namespace keyward::daemon {

namespace {

bool LooksPrivate(std::string_view text) {
  // The first line of every private key format people paste, and the
  // marker anywhere (a key pasted after a blank line or a comment).
  return ca::LooksLikePrivateKey(text) || text.find("PRIVATE KEY") != std::string_view::npos ||
         text.find("PuTTY-User-Key-File") != std::string_view::npos;
}

std::string JoinMessages(const std::vector<Error>& errors) {
  std::string out;
  for (const Error& e : errors) out += (out.empty() ? "" : " ") + e.message;
  return out;
}

}  // namespace

Result<PastedKey> ParsePastedKey(std::string_view text, const key::KeyPolicy& policy) {
  if (LooksPrivate(text)) {
    return Fail("private_key", "That is a private key: paste the .pub file instead (for example "
                               "~/.ssh/id_ed25519.pub), and keep the private key secret.");
  }
  std::string_view found;
  std::size_t count = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos || line[start] == '#') continue;
    ++count;
    found = line.substr(start);
  }
  if (count == 0) return Fail("no_key", "Paste your public key: the one line of your .pub file.");
  if (count > 1) {
    return Fail("several_keys", "That is " + std::to_string(count) +
                                    " keys. A certificate is for one key: paste the one line of one .pub file.");
  }
  if (found.find('\r') != std::string_view::npos) {
    return Fail("invalid_key", "The key holds a carriage return inside its line; paste the .pub file's one line.");
  }
  auto parsed = authkeys::ParseAuthorizedKeysLine(found);
  if (!parsed) return Fail(parsed.error());
  if (parsed->kind != authkeys::LineKind::kKey || !parsed->entry) {
    return Fail("no_key", "Paste your public key: the one line of your .pub file.");
  }
  authkeys::AuthorizedKey& entry = *parsed->entry;
  if (!(entry.options == authkeys::Options{})) {
    return Fail("options_in_key", "The key line carries options (such as command= or from=) in front of the key. "
                                  "Paste the public key alone: the contents of the .pub file.");
  }
  if (entry.key.is_certificate()) {
    return Fail("certificate", "That is a certificate, not a key. Paste the plain public key (the .pub file, not "
                               "the -cert.pub one).");
  }
  auto refusals = key::CheckKeyPolicy(entry.key, policy);
  if (!refusals.empty()) return Fail(refusals.front().code, JoinMessages(refusals));
  return PastedKey{std::move(entry.key), authkeys::CleanComment(entry.comment)};
}

}  // namespace keyward::daemon
