#include "cli/fingerprint.h"

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/terminal_text.h"
#include "key/public_key.h"

namespace keyward::cli {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// ssh-keygen's fallback when a line does not start with a key: unless the
// first word is a number (an SSH-1 bit count), skip it as a host name or
// options field, honouring double quotes.
struct Skipped {
  enum Kind {
    kSsh1Bits,  // a bit count: ssh-keygen leaves the line (and its comment) alone
    kNoBlank,   // the word runs to the end of the line: nothing left to read
    kWord,      // skipped `word`; the key is read from `key_at`
  } kind = kNoBlank;
  std::size_t key_at = 0;
  std::string_view word;
};

Skipped SkipLeadingWord(std::string_view line) {
  // strtol(cp, &ep, 10): a non-zero number followed by a blank is an SSH-1
  // key's bit count, and ssh-keygen then gives up on the line.
  std::string copy(line);
  char* end = nullptr;
  long number = std::strtol(copy.c_str(), &end, 10);
  int as_int = static_cast<int>(number);  // ssh-keygen keeps it in an int
  std::size_t after = static_cast<std::size_t>(end - copy.c_str());
  bool ssh1_bits = as_int != 0 && after < line.size() && IsBlank(line[after]);
  if (ssh1_bits) return {Skipped::kSsh1Bits, 0, {}};

  bool quoted = false;
  std::size_t i = 0;
  for (; i < line.size() && (quoted || !IsBlank(line[i])); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '"') {
      ++i;
    } else if (line[i] == '"') {
      quoted = !quoted;
    }
  }
  if (i >= line.size()) return {Skipped::kNoBlank, 0, {}};
  return {Skipped::kWord, i + 1, line.substr(0, i)};
}

// ssh-keygen -l keeps a single `comment` pointer into its getline() buffer
// for the whole file and never resets it between lines (OpenSSH 9.2,
// do_fingerprint()). A key line without a comment of its own therefore
// prints whatever that buffer now holds where an earlier line's comment (or
// skipped host name / options word) began: usually a part of the current
// line, or the tail of a longer earlier line. This reproduces the buffer:
// each line is copied over its start, followed by the NUL that replaces the
// newline, and older bytes beyond it stay. (When getline() has to move the
// buffer to read a longer line, the old pointer dangles and ssh-keygen
// prints freed memory; that cannot be reproduced, and this keeps the bytes
// as if the buffer had grown in place.)
class KeygenLineBuffer {
 public:
  // Loads `raw` (the line as read, NULs included) as getline() does, then
  // cuts it at the first newline or NUL as ssh-keygen does.
  void Load(std::string_view raw, bool newline) {
    const std::size_t needed = raw.size() + (newline ? 1 : 0) + 1;
    if (buf_.size() < needed) buf_.resize(needed, '\0');
    buf_.replace(0, raw.size(), raw);
    if (newline) buf_[raw.size()] = '\n';
    buf_[needed - 1] = '\0';
    buf_[buf_.find_first_of(std::string_view("\n\0", 2))] = '\0';
  }
  // ssh-keygen's "*cp++ = '\0'" after a skipped word.
  void Terminate(std::size_t at) { buf_[at] = '\0'; }
  // The C string that starts at `at`.
  std::string_view CStringAt(std::size_t at) const {
    if (at >= buf_.size()) return {};
    std::string_view s(buf_);
    s.remove_prefix(at);
    return s.substr(0, s.find('\0'));
  }

 private:
  std::string buf_;
};

std::string_view TypeLabel(const key::PublicKey& k) { return k.type().short_name; }

}  // namespace

CommandOutput RunFingerprint(const FingerprintRequest& request) {
  CommandOutput result;
  nlohmann::json keys = nlohmann::json::array();
  nlohmann::json skipped = nlohmann::json::array();
  std::string& out = result.out;
  out.reserve(request.json ? 0 : request.content.size());
  bool found = false;

  std::string_view rest = request.content;
  std::size_t line_number = 0;
  KeygenLineBuffer buffer;
  // Where ssh-keygen's `comment` points into `buffer`; unset until a line
  // sets it, and then never unset.
  std::optional<std::size_t> keygen_comment;
  while (!rest.empty()) {
    ++line_number;
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    // ssh-keygen works on C strings: a NUL ends the line for it.
    if (!request.json) buffer.Load(line, nl != std::string_view::npos);
    if (std::size_t nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);

    std::size_t start = 0;
    while (start < line.size() && IsBlank(line[start])) ++start;
    std::string_view cp = line.substr(start);
    if (cp.empty() || cp[0] == '#') continue;

    if (line_number == 1 && !request.from_stdin && cp.find("PRIVATE KEY") != std::string_view::npos) {
      result.err += request.display_name +
                    " is a private key; keyward does not read private keys. Give the .pub file instead.\n";
      result.exit_code = 255;
      result.out.clear();
      return result;
    }

    // The line's own comment (for --json): the skipped word or the text
    // after the key.
    std::string_view comment;
    bool have_comment = false;
    std::size_t key_at = start;  // offset of the key text within the line
    auto read = key::ReadKeyText(cp);
    // When the line starts with a key type, its own error says what is wrong
    // with the key; the retry after a host name would only hide it.
    std::optional<Error> first_error;
    if (!read && key::FindKeyType(cp.substr(0, cp.find_first_of(" \t"))) != nullptr) first_error = read.error();
    if (!read) {
      Skipped skip = SkipLeadingWord(cp);
      if (skip.kind != Skipped::kSsh1Bits) keygen_comment = start;
      if (skip.kind == Skipped::kWord) {
        comment = skip.word;
        have_comment = true;
        if (!request.json) buffer.Terminate(start + skip.key_at - 1);
        key_at = start + skip.key_at;
        cp = cp.substr(skip.key_at);
        read = key::ReadKeyText(cp);
      }
    }
    if (!read) {
      const Error& error = first_error ? *first_error : read.error();
      std::string reason = error.message;
      result.err += request.display_name + ":" + std::to_string(line_number) + ": not a public key: " + reason + "\n";
      if (request.json) skipped.push_back({{"line", line_number}, {"code", error.code}, {"error", reason}});
      continue;
    }
    std::string_view trailing = cp.substr(read->comment_offset);
    if (!trailing.empty() && trailing[0] != '#') {
      comment = trailing;
      have_comment = true;
      keygen_comment = key_at + read->comment_offset;
    }
    found = true;
    const key::PublicKey& k = read->key;
    if (request.json) {
      keys.push_back({{"line", line_number},
                      {"bits", k.bits()},
                      {"fingerprint", key::Fingerprint(k, request.hash)},
                      {"comment", have_comment ? std::string(comment) : std::string()},
                      {"type", TypeLabel(k)},
                      {"key_type", k.type_name()},
                      {"certificate", k.is_certificate()}});
      continue;
    }
    out += std::to_string(k.bits());
    out.push_back(' ');
    key::AppendFingerprint(k, request.hash, out);
    out.push_back(' ');
    if (keygen_comment) {
      AppendTerminalSafe(buffer.CStringAt(*keygen_comment), out);
    } else {
      out += "no comment";
    }
    out += " (";
    out += TypeLabel(k);
    out += ")\n";
  }

  if (request.json) {
    nlohmann::json doc = {{"file", request.display_name}, {"keys", keys}, {"skipped", skipped}};
    out = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  if (!found) {
    result.err += request.display_name + " is not a public key file.\n";
    result.exit_code = 255;
  }
  return result;
}

}  // namespace keyward::cli
