#include "authkeys/line.h"

#include <cstring>

#include "key/key_type.h"

namespace keyward::authkeys {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::size_t SkipBlanks(std::string_view s, std::size_t i) {
  while (i < s.size() && IsBlank(s[i])) ++i;
  return i;
}

// sshd's sshkey_advance_past_options(): the options field ends at the first
// blank outside double quotes; \" inside quotes does not end the quote.
// Returns the end of the field, or npos for an unterminated quote.
std::size_t OptionsFieldEnd(std::string_view s) {
  bool quoted = false;
  std::size_t i = 0;
  for (; i < s.size() && (quoted || !IsBlank(s[i])); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '"') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    }
  }
  if (quoted) return std::string_view::npos;
  return i;
}

std::string_view FirstToken(std::string_view s) {
  std::size_t end = 0;
  while (end < s.size() && !IsBlank(s[end])) ++end;
  return s.substr(0, end);
}

}  // namespace

Result<ParsedLine> ParseAuthorizedKeysLine(std::string_view line) {
  if (line.size() > kMaxLineBytes) {
    return Fail("line_too_long", "the line is " + std::to_string(line.size()) + " bytes; keyward reads lines of at most " +
                                     std::to_string(kMaxLineBytes) + " bytes");
  }
  if (std::memchr(line.data(), '\0', line.size()) != nullptr) {
    return Fail("nul_byte", "the line holds a NUL byte; sshd would cut the line there. Remove it");
  }
  // CRLF files work with sshd: a CR at the end is blank to the base64
  // reader, or part of the comment.
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  std::size_t start = SkipBlanks(line, 0);
  ParsedLine out;
  if (start == line.size()) return out;
  if (line[start] == '#') {
    out.kind = LineKind::kComment;
    return out;
  }
  std::string_view rest = line.substr(start);

  auto bare = key::ReadKeyText(rest);
  std::string_view options_text;
  std::size_t key_start = 0;
  if (!bare) {
    // A line that starts with a key type names its own problem; any other
    // first word is taken as the options field, as sshd does.
    if (key::FindKeyType(FirstToken(rest)) != nullptr) return Fail(bare.error());
    std::size_t end = OptionsFieldEnd(rest);
    if (end == std::string_view::npos) {
      return Fail("unbalanced_quotes", "the options have an unbalanced double quote; close the quoted value");
    }
    options_text = rest.substr(0, end);
    key_start = SkipBlanks(rest, end);
    if (key_start == rest.size()) {
      return Fail("no_key", "no key after \"" + std::string(options_text.substr(0, 80)) +
                                "\"; a line is [options] type base64 [comment]");
    }
  }
  auto parsed_options = ParseOptions(options_text);
  if (!parsed_options) {
    // "ssh-ed448 AAAA...": sshd reads an unknown type name as options, but
    // when neither it nor the next word makes sense the likely mistake is
    // the key type; say so rather than "unknown key option".
    if (options_text.find_first_of("=\",") == std::string_view::npos &&
        key::FindKeyType(FirstToken(rest.substr(key_start))) == nullptr) {
      return Fail("unknown_key_type", "\"" + std::string(options_text.substr(0, 64)) +
                                          "\" is neither a key type OpenSSH knows (ssh-ed25519, "
                                          "ecdsa-sha2-nistp256, ssh-rsa, ...) nor a key option");
    }
    return Fail(parsed_options.error());
  }

  AuthorizedKey entry;
  entry.options = std::move(parsed_options->options);
  std::size_t comment_at = 0;
  if (bare) {
    entry.key = std::move(bare->key);
    comment_at = bare->comment_offset;
  } else {
    auto after = key::ReadKeyText(rest.substr(key_start));
    if (!after) {
      if (key::FindKeyType(FirstToken(rest.substr(key_start))) == nullptr) {
        return Fail("unknown_key_type", "\"" + std::string(FirstToken(rest.substr(key_start)).substr(0, 64)) +
                                            "\" is not a key type OpenSSH knows (ssh-ed25519, "
                                            "ecdsa-sha2-nistp256, ssh-rsa, ...)");
      }
      return Fail(after.error());
    }
    entry.key = std::move(after->key);
    comment_at = key_start + after->comment_offset;
  }
  entry.comment = std::string(rest.substr(comment_at));
  out.kind = LineKind::kKey;
  out.entry = std::move(entry);
  return out;
}

std::string CleanComment(std::string_view comment) {
  std::string out;
  out.reserve(comment.size());
  for (char c : comment) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  std::size_t b = out.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  std::size_t e = out.find_last_not_of(' ');
  return out.substr(b, e - b + 1);
}

std::string FormatAuthorizedKey(const AuthorizedKey& entry) {
  std::string line = SerializeOptions(entry.options);
  if (!line.empty()) line.push_back(' ');
  line += entry.key.ToText();
  std::string comment = CleanComment(entry.comment);
  if (!comment.empty()) {
    line.push_back(' ');
    line += comment;
  }
  return line;
}

}  // namespace keyward::authkeys
