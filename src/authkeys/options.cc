#include "authkeys/options.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cerrno>
#include <climits>
#include <ctime>
#include <string>
#include <vector>

namespace keyward::authkeys {

namespace {

// ---------------------------------------------------------------- helpers

char ToLowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// isspace() in the C locale, which is what strtoll() skips in sshd.
bool IsCSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// OpenBSD strtonum(s, 0, max): strtoll() base 10 (leading white space and a
// sign allowed, at least one digit), which must consume the whole string,
// then a range check. "-0" is 0; any other negative number is out of range.
std::optional<long long> StrToNum(std::string_view s, long long max) {
  std::size_t i = 0;
  while (i < s.size() && IsCSpace(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  const std::size_t first_digit = i;
  long long value = 0;
  bool too_large = false;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    // Saturate instead of overflowing: anything above max is refused anyway.
    if (value > (LLONG_MAX - 9) / 10) {
      too_large = true;
    } else {
      value = value * 10 + (s[i] - '0');
    }
  }
  if (i == first_digit || i != s.size()) return std::nullopt;
  if (too_large || value > max) return std::nullopt;
  if (negative && value != 0) return std::nullopt;
  return value;
}

// getservbyname_r(name, "tcp"): the port of a service name, or -1.
int TcpServicePort(const std::string& name) {
  struct servent entry {};
  struct servent* found = nullptr;
  std::vector<char> buffer(1024);
  // The buffer holds the entry's strings; a long alias list can need more.
  while (getservbyname_r(name.c_str(), "tcp", &entry, buffer.data(), buffer.size(), &found) == ERANGE &&
         buffer.size() < 64 * 1024) {
    buffer.resize(buffer.size() * 2);
  }
  if (found == nullptr) return -1;
  return ntohs(static_cast<std::uint16_t>(found->s_port));
}

// misc.c a2port(): a number 0..65535 or a TCP service name; -1 if neither.
int A2Port(std::string_view s) {
  if (auto port = StrToNum(s, 65535)) return static_cast<int>(*port);
  return TcpServicePort(std::string(s));
}

// valid_env_name(): one or more of [A-Za-z0-9_] (isalnum in the C locale).
bool ValidEnvName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// misc.c parse_absolute_time(): YYYYMMDD[HHMM[SS]] with an optional "Z" or
// "UTC" suffix (any case) for UTC, otherwise local time. The digits are
// handed to libc's strptime in an ISO layout, exactly as sshd does, so that
// whatever that strptime tolerates (a blank before a number, day 31 in
// February) is tolerated here too; timegm/mktime then normalise.
std::optional<std::uint64_t> ParseAbsoluteTime(std::string_view s) {
  std::size_t len = s.size();
  bool utc = false;
  if (len > 1 && ToLowerAscii(s[len - 1]) == 'z') {
    utc = true;
    len -= 1;
  } else if (len > 3 && EqualsNoCase(s.substr(len - 3), "UTC")) {
    utc = true;
    len -= 3;
  }
  if (len != 8 && len != 12 && len != 14) return std::nullopt;
  auto part = [s](std::size_t at, std::size_t n) { return std::string(s.substr(at, n)); };
  std::string iso = part(0, 4) + "-" + part(4, 2) + "-" + part(6, 2);
  std::string format = "%Y-%m-%d";
  if (len >= 12) {
    iso += "T" + part(8, 2) + ":" + part(10, 2);
    format += "T%H:%M";
  }
  if (len == 14) {
    iso += ":" + part(12, 2);
    format += ":%S";
  }
  struct tm tm {};
  const char* end = strptime(iso.c_str(), format.c_str(), &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  time_t t = utc ? timegm(&tm) : mktime(&tm);
  if (t < 0) return std::nullopt;
  return static_cast<std::uint64_t>(t);
}

// A short, printable excerpt of input for an error message.
std::string Excerpt(std::string_view s, std::size_t max = 40) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// ------------------------------------------------------------------ flags

// The keyword flags, in the order sshauthopt_parse() tries them. Flags are
// matched by case-insensitive prefix; the negatable ones also as "no-<flag>".
enum class FlagEffect { kRestrict, kCertAuthority, kPermit, kTouchRequired, kVerifyRequired };

struct FlagSpec {
  std::string_view name;
  bool negatable;
  FlagEffect effect;
  bool Options::*permit;  // for kPermit: the flag it sets
};

constexpr FlagSpec kFlags[] = {
    {"restrict", false, FlagEffect::kRestrict, nullptr},
    {"cert-authority", false, FlagEffect::kCertAuthority, nullptr},
    {"port-forwarding", true, FlagEffect::kPermit, &Options::permit_port_forwarding},
    {"agent-forwarding", true, FlagEffect::kPermit, &Options::permit_agent_forwarding},
    {"x11-forwarding", true, FlagEffect::kPermit, &Options::permit_x11_forwarding},
    {"touch-required", true, FlagEffect::kTouchRequired, nullptr},
    {"verify-required", true, FlagEffect::kVerifyRequired, nullptr},
    {"pty", true, FlagEffect::kPermit, &Options::permit_pty},
    {"user-rc", true, FlagEffect::kPermit, &Options::permit_user_rc},
};

void ApplyFlag(const FlagSpec& flag, bool positive, Options& out) {
  switch (flag.effect) {
    case FlagEffect::kRestrict:
      // "restrict" clears what is permitted so far; later flags re-enable.
      out.restricted = true;
      for (const FlagSpec& f : kFlags) {
        if (f.effect == FlagEffect::kPermit) out.*f.permit = false;
      }
      break;
    case FlagEffect::kCertAuthority:
      out.cert_authority = true;
      break;
    case FlagEffect::kPermit:
      out.*flag.permit = positive;
      break;
    case FlagEffect::kTouchRequired:
      out.no_touch_required = !positive;
      break;
    case FlagEffect::kVerifyRequired:
      out.verify_required = positive;
      break;
  }
}

// ----------------------------------------------------------------- parser

// One pass over the options text, mirroring sshauthopt_parse(). The text is
// read as a C string: At() past the end yields '\0', like the terminator.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<ParsedOptions> Run();

 private:
  char At(std::size_t i) const { return i < text_.size() ? text_[i] : '\0'; }
  bool AtFieldEnd() const { return At(pos_) == '\0' || At(pos_) == ' ' || At(pos_) == '\t'; }
  bool HasPrefixNoCase(std::size_t at, std::string_view word) const;

  bool MatchFlag();
  bool MatchName(std::string_view name);
  Result<void> ParseValued();
  Result<std::string> Dequote();
  Result<void> ParseOnce(std::optional<std::string>& field);
  Result<void> ParseExpiry();
  Result<void> ParseEnvironment();
  Result<void> ParsePermit(std::vector<std::string>& permits, bool allow_bare_port);
  Result<void> ParseTunnel();

  tl::unexpected<Error> ValueError(std::string code, std::string_view reason, std::string_view hint) const;
  tl::unexpected<Error> UnknownOption() const;

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t option_start_ = 0;   // where the current option began
  std::string_view option_name_;   // the name= being parsed, for messages
  Options out_;
};

bool Parser::HasPrefixNoCase(std::size_t at, std::string_view word) const {
  if (at > text_.size() || text_.size() - at < word.size()) return false;
  return EqualsNoCase(text_.substr(at, word.size()), word);
}

// misc.c opt_flag(): "no-" is stripped first for negatable flags, and then
// the flag itself must follow; there is no second try without the "no-".
bool Parser::MatchFlag() {
  for (const FlagSpec& flag : kFlags) {
    std::size_t at = pos_;
    bool positive = true;
    if (flag.negatable && HasPrefixNoCase(at, "no-")) {
      at += 3;
      positive = false;
    }
    if (HasPrefixNoCase(at, flag.name)) {
      pos_ = at + flag.name.size();
      ApplyFlag(flag, positive, out_);
      return true;
    }
  }
  return false;
}

// misc.c opt_match(): the name, any case, immediately followed by '='.
bool Parser::MatchName(std::string_view name) {
  if (!HasPrefixNoCase(pos_, name) || At(pos_ + name.size()) != '=') return false;
  pos_ += name.size() + 1;
  option_name_ = name;
  return true;
}

// The name="value" options, in sshauthopt_parse() order. Matching none is
// not an error here: the separator check that follows reports it.
Result<void> Parser::ParseValued() {
  if (MatchName("command")) return ParseOnce(out_.force_command);
  if (MatchName("principals")) return ParseOnce(out_.cert_principals);
  if (MatchName("from")) return ParseOnce(out_.required_from_host_keys);
  if (MatchName("expiry-time")) return ParseExpiry();
  if (MatchName("environment")) return ParseEnvironment();
  if (MatchName("permitopen")) return ParsePermit(out_.permitopen, false);
  if (MatchName("permitlisten")) return ParsePermit(out_.permitlisten, true);
  if (MatchName("tunnel")) return ParseTunnel();
  return {};
}

// misc.c opt_dequote(): a value in double quotes, where \" stands for a
// quote and every other byte (a lone backslash too) stands for itself.
Result<std::string> Parser::Dequote() {
  if (At(pos_) != '"') {
    return ValueError("bad_quoting", "missing start quote",
                      "the value must be in double quotes, as " + std::string(option_name_) + "=\"...\"");
  }
  ++pos_;
  std::string value;
  while (At(pos_) != '\0' && At(pos_) != '"') {
    if (At(pos_) == '\\' && At(pos_ + 1) == '"') ++pos_;
    value.push_back(At(pos_));
    ++pos_;
  }
  if (At(pos_) == '\0') {
    return ValueError("bad_quoting", "missing end quote",
                      "close the value with a double quote; write a quote inside it as \\\"");
  }
  ++pos_;
  return value;
}

// command=, principals= and from= may each appear once. The repeat is
// reported before its value is read, as sshd does.
Result<void> Parser::ParseOnce(std::optional<std::string>& field) {
  if (field.has_value()) {
    return ValueError("duplicate_option", "multiple \"" + std::string(option_name_) + "\" clauses",
                      "give it once; sshd refuses a line that repeats it");
  }
  auto value = Dequote();
  if (!value) return Fail(value.error());
  field = std::move(*value);
  return {};
}

Result<void> Parser::ParseExpiry() {
  auto value = Dequote();
  if (!value) return Fail(value.error());
  auto when = ParseAbsoluteTime(*value);
  if (!when || *when == 0) {
    // Built by append: g++ 12 warns falsely (-Wrestrict) on "literal" + string&&.
    std::string why = "\"";
    why += Excerpt(*value);
    why += "\" is not YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS after 1970, with an optional Z or UTC suffix for UTC";
    return ValueError("bad_option_value", "invalid expires time", why);
  }
  if (*when > kMaxExpiryTime) {
    return ValueError("bad_option_value", "invalid expires time",
                      "\"" + Excerpt(*value) + "\" is after 9999-12-31T23:59:59Z, the latest time keyward writes");
  }
  // Several expiry-time options are allowed; the earliest wins.
  if (out_.expiry_time == 0 || *when < out_.expiry_time) out_.expiry_time = *when;
  return {};
}

Result<void> Parser::ParseEnvironment() {
  // sshd counts before it reads the value, and counts kept entries only.
  if (out_.environment.size() > kMaxEnvironment) {
    return ValueError("too_many_options", "too many environment strings",
                      "sshd keeps at most " + std::to_string(kMaxEnvironment + 1) + " environment= options");
  }
  auto value = Dequote();
  if (!value) return Fail(value.error());
  std::size_t eq = value->find('=');
  if (eq == std::string::npos || !ValidEnvName(std::string_view(*value).substr(0, eq))) {
    return ValueError("bad_option_value", "invalid environment string",
                      "\"" + Excerpt(*value) + "\" is not NAME=value with a NAME of letters, digits and _");
  }
  // The first definition of a name wins; later ones are dropped silently.
  for (const std::string& kept : out_.environment) {
    if (kept.size() > eq && kept.compare(0, eq, *value, 0, eq) == 0 && kept[eq] == '=') return {};
  }
  out_.environment.push_back(std::move(*value));
  return {};
}

// auth-options.c handle_permit(): "host:port", "[v6addr]:port" or, for
// permitlisten, a bare port (stored as "*:port"). '/' also separates host
// and port (hpdelim2). The host may be empty; the port is "*", a number
// 1..65535 or a TCP service name. The value is stored as written.
Result<void> Parser::ParsePermit(std::vector<std::string>& permits, bool allow_bare_port) {
  if (permits.size() > kMaxPermits) {
    return ValueError("too_many_options", "too many permission directives",
                      "sshd keeps at most " + std::to_string(kMaxPermits + 1) + " " + std::string(option_name_) +
                          "= options");
  }
  auto value = Dequote();
  if (!value) return Fail(value.error());
  if (allow_bare_port && value->find(':') == std::string::npos) *value = "*:" + *value;

  std::string_view spec = *value;
  std::size_t delim = 0;
  if (!spec.empty() && spec[0] == '[') {
    std::size_t close = spec.find(']');
    delim = close == std::string_view::npos ? close : close + 1;
  } else {
    delim = spec.find_first_of(":/");
    if (delim == std::string_view::npos) delim = spec.size();
  }
  bool host_ok = delim != std::string_view::npos &&
                 (delim == spec.size() || spec[delim] == ':' || spec[delim] == '/') && delim <= kMaxPermitHostBytes;
  if (!host_ok) {
    return ValueError("bad_option_value", "invalid permission hostname",
                      "\"" + Excerpt(*value) + "\" is not host:port or [address]:port with a host under 1025 bytes");
  }
  bool port_ok = false;
  if (delim < spec.size()) {
    std::string_view port = spec.substr(delim + 1);
    port_ok = port == "*" || A2Port(port) > 0;
  }
  if (!port_ok) {
    return ValueError("bad_option_value", "invalid permission port",
                      "\"" + Excerpt(*value) + "\" needs a port after the host: 1-65535, a TCP service name or *");
  }
  permits.push_back(std::move(*value));
  return {};
}

// misc.c a2tun(): "any" (any case) or a unit number 0..SSH_TUNID_MAX. A
// later tunnel= replaces an earlier one.
Result<void> Parser::ParseTunnel() {
  auto value = Dequote();
  if (!value) return Fail(value.error());
  if (EqualsNoCase(*value, "any")) {
    out_.tunnel = kTunnelAny;
    return {};
  }
  auto unit = StrToNum(*value, kTunnelMax);
  if (!unit) {
    return ValueError("bad_option_value", "invalid tun device",
                      "\"" + Excerpt(*value) + "\" is not \"any\" or a unit number 0-" + std::to_string(kTunnelMax));
  }
  out_.tunnel = static_cast<int>(*unit);
  return {};
}

tl::unexpected<Error> Parser::ValueError(std::string code, std::string_view reason, std::string_view hint) const {
  return Fail(std::move(code), std::string(reason) + " in option \"" + std::string(option_name_) + "\" at byte " +
                                   std::to_string(option_start_) + ": " + std::string(hint));
}

tl::unexpected<Error> Parser::UnknownOption() const {
  // Quote the option up to the end of the field, where a person looks.
  std::size_t end = text_.find_first_of(" \t", pos_);
  if (end == std::string_view::npos) end = text_.size();
  return Fail("unknown_option",
              "unknown key option at byte " + std::to_string(pos_) + " (\"" +
                  Excerpt(text_.substr(option_start_, end - option_start_)) +
                  "\"): options are comma-separated, with blanks only inside double quotes; see "
                  "AUTHORIZED_KEYS FILE FORMAT in sshd(8)");
}

Result<ParsedOptions> Parser::Run() {
  while (!AtFieldEnd()) {
    option_start_ = pos_;
    option_name_ = {};
    if (!MatchFlag()) {
      auto valued = ParseValued();
      if (!valued) return Fail(valued.error());
    }
    // Whatever matched (or nothing, for an empty option), a separator must
    // follow: this is where "ptyfoo" and "BLAH" are refused.
    if (AtFieldEnd()) break;
    if (At(pos_) != ',') return UnknownOption();
    ++pos_;
    if (At(pos_) == '\0') {
      return Fail("unexpected_end", "unexpected end-of-options at byte " + std::to_string(pos_) +
                                        ": the options end with a comma; remove it");
    }
  }
  return ParsedOptions{std::move(out_), pos_};
}

// ----------------------------------------------------------------- writer

// Used in place of a value that no quoted text can stand for: sshd refuses
// it with "missing start quote", so the line fails closed.
constexpr std::string_view kUnrepresentable = "(unrepresentable)";

class Writer {
 public:
  void Word(std::string_view word) {
    if (!text_.empty()) text_.push_back(',');
    text_ += word;
  }

  // name="value" with each '"' written \". A value ending in a backslash
  // would turn the closing quote into an escape; NUL would end the line.
  void Value(std::string_view name, std::string_view value) {
    Word(name);
    text_.push_back('=');
    if ((!value.empty() && value.back() == '\\') || value.find('\0') != std::string_view::npos) {
      text_ += kUnrepresentable;
      return;
    }
    text_.push_back('"');
    for (char c : value) {
      if (c == '"') text_.push_back('\\');
      text_.push_back(c);
    }
    text_.push_back('"');
  }

  void Unrepresentable(std::string_view name) {
    Word(name);
    text_.push_back('=');
    text_ += kUnrepresentable;
  }

  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
};

void WriteFlags(const Options& o, Writer& w) {
  if (o.restricted) {
    // After "restrict" everything is off: name what is switched back on.
    w.Word("restrict");
    for (const FlagSpec& f : kFlags) {
      if (f.effect == FlagEffect::kPermit && o.*f.permit) w.Word(f.name);
    }
  } else {
    for (const FlagSpec& f : kFlags) {
      if (f.effect == FlagEffect::kPermit && !(o.*f.permit)) w.Word("no-" + std::string(f.name));
    }
  }
  if (o.cert_authority) w.Word("cert-authority");
}

void WriteTunnel(int tunnel, Writer& w) {
  if (tunnel == kTunnelAny) {
    w.Value("tunnel", "any");
  } else if (tunnel >= 0 && tunnel <= kTunnelMax) {
    w.Value("tunnel", std::to_string(tunnel));
  } else {
    w.Unrepresentable("tunnel");
  }
}

// Always UTC, so that the text means the same instant on every machine.
void WriteExpiry(std::uint64_t when, Writer& w) {
  if (when > kMaxExpiryTime) {
    w.Unrepresentable("expiry-time");
    return;
  }
  const auto t = static_cast<time_t>(when);
  struct tm tm {};
  char buf[32];
  if (gmtime_r(&t, &tm) == nullptr || strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm) != 15) {
    w.Unrepresentable("expiry-time");
    return;
  }
  w.Value("expiry-time", buf);
}

}  // namespace

Result<ParsedOptions> ParseOptions(std::string_view text) {
  if (text.size() > kMaxOptionsText) {
    return Fail("options_too_long", "the options text is " + std::to_string(text.size()) +
                                        " bytes; keyward reads at most " + std::to_string(kMaxOptionsText));
  }
  // sshd parses a C string: a NUL ends it.
  text = text.substr(0, text.find('\0'));
  auto parsed = Parser(text).Run();
  if (!parsed) return parsed;
  // Checked so that whatever is accepted can be written back and re-read.
  std::size_t canonical = SerializeOptions(parsed->options).size();
  if (canonical > kMaxOptionsText) {
    return Fail("options_too_long", "the options, written in canonical form, take " + std::to_string(canonical) +
                                        " bytes; keyward writes at most " + std::to_string(kMaxOptionsText));
  }
  return parsed;
}

Options CertificateDefaults() {
  Options o;
  for (const FlagSpec& f : kFlags) {
    if (f.effect == FlagEffect::kPermit) o.*f.permit = false;
  }
  return o;
}

std::string SerializeOptions(const Options& o) {
  Writer w;
  WriteFlags(o, w);
  if (o.force_command) w.Value("command", *o.force_command);
  if (o.required_from_host_keys) w.Value("from", *o.required_from_host_keys);
  if (o.cert_principals) w.Value("principals", *o.cert_principals);
  for (const std::string& e : o.environment) w.Value("environment", e);
  for (const std::string& p : o.permitopen) w.Value("permitopen", p);
  for (const std::string& p : o.permitlisten) w.Value("permitlisten", p);
  if (o.tunnel) WriteTunnel(*o.tunnel, w);
  if (o.expiry_time != 0) WriteExpiry(o.expiry_time, w);
  if (o.no_touch_required) w.Word("no-touch-required");
  if (o.verify_required) w.Word("verify-required");
  return w.Take();
}

}  // namespace keyward::authkeys
