#include "authkeys/options.h"

#include <gtest/gtest.h>
#include <netdb.h>

#include <ctime>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace keyward::authkeys {

// Readable failures: the canonical text says what differs.
void PrintTo(const Options& o, std::ostream* os) {
  *os << "{" << SerializeOptions(o);
  if (o.required_from_host_cert) *os << " source-address=" << *o.required_from_host_cert;
  *os << "}";
}

namespace {

using Edit = std::function<void(Options&)>;

Options With(const Edit& edit) {
  Options o;
  if (edit) edit(o);
  return o;
}

void Restrict(Options& o) {
  o.restricted = true;
  o.permit_port_forwarding = o.permit_agent_forwarding = o.permit_x11_forwarding = false;
  o.permit_pty = o.permit_user_rc = false;
}

// sshd reads a date without Z/UTC as local time, through mktime with
// tm_isdst = 0; so does the test.
std::uint64_t LocalTime(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::uint64_t>(mktime(&tm));
}

bool HaveTcpService(const char* name) { return getservbyname(name, "tcp") != nullptr; }

std::string Repeat(const std::string& item, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) out += ",";
    out += item;
  }
  return out;
}

// ------------------------------------------------------------------ accept

struct AcceptCase {
  std::string input;
  std::string rest;  // what is left after the options field
  Edit expect;       // applied to the authorized_keys defaults
};

const std::string kHost1024 = std::string(1024, 'a');

std::vector<AcceptCase> AcceptCases() {
  return {
      // Empty, and stopping at the first unquoted blank.
      {"", "", nullptr},
      {" ", " ", nullptr},
      {"\t", "\t", nullptr},
      {" restrict", " restrict", nullptr},
      {"restrict", "", Restrict},
      {"restrict ssh-ed25519 AAAA", " ssh-ed25519 AAAA", Restrict},
      {"restrict\tssh-ed25519", "\tssh-ed25519", Restrict},
      // Case does not matter, in names or in "no-".
      {"RESTRICT", "", Restrict},
      {"NO-PTY", "", [](Options& o) { o.permit_pty = false; }},
      {"No-X11-Forwarding", "", [](Options& o) { o.permit_x11_forwarding = false; }},
      {"Cert-Authority", "", [](Options& o) { o.cert_authority = true; }},
      {"Command=\"x\"", "", [](Options& o) { o.force_command = "x"; }},
      {"COMMAND=\"x\"", "", [](Options& o) { o.force_command = "x"; }},
      // Every flag.
      {"cert-authority", "", [](Options& o) { o.cert_authority = true; }},
      {"no-port-forwarding", "", [](Options& o) { o.permit_port_forwarding = false; }},
      {"no-agent-forwarding", "", [](Options& o) { o.permit_agent_forwarding = false; }},
      {"no-x11-forwarding", "", [](Options& o) { o.permit_x11_forwarding = false; }},
      {"no-pty", "", [](Options& o) { o.permit_pty = false; }},
      {"no-user-rc", "", [](Options& o) { o.permit_user_rc = false; }},
      {"port-forwarding,agent-forwarding,x11-forwarding,pty,user-rc", "", nullptr},
      {"restrict,port-forwarding", "", [](Options& o) { Restrict(o), o.permit_port_forwarding = true; }},
      {"restrict,agent-forwarding", "", [](Options& o) { Restrict(o), o.permit_agent_forwarding = true; }},
      {"restrict,x11-forwarding", "", [](Options& o) { Restrict(o), o.permit_x11_forwarding = true; }},
      {"restrict,pty", "", [](Options& o) { Restrict(o), o.permit_pty = true; }},
      {"restrict,user-rc", "", [](Options& o) { Restrict(o), o.permit_user_rc = true; }},
      {"pty,restrict", "", Restrict},  // restrict clears what came before it
      {"no-touch-required", "", [](Options& o) { o.no_touch_required = true; }},
      {"touch-required", "", nullptr},
      {"no-touch-required,touch-required", "", nullptr},
      {"verify-required", "", [](Options& o) { o.verify_required = true; }},
      {"no-verify-required", "", nullptr},
      {"verify-required,no-verify-required", "", nullptr},
      // Empty options between commas are skipped.
      {",pty", "", nullptr},
      {"no-pty,,cert-authority", "", [](Options& o) { o.permit_pty = false, o.cert_authority = true; }},
      // A comma followed by a blank ends the field, comma included.
      {"no-pty, ssh-ed25519", " ssh-ed25519", [](Options& o) { o.permit_pty = false; }},
      // A NUL ends the text, as it ends sshd's C string.
      {std::string("no-pty\0garbage", 14), std::string("\0garbage", 8), [](Options& o) { o.permit_pty = false; }},
      // command=, principals=, from=: quoting.
      {"command=\"/bin/true\"", "", [](Options& o) { o.force_command = "/bin/true"; }},
      {"command=\"\"", "", [](Options& o) { o.force_command = ""; }},
      {R"(command="say \"hi\"")", "", [](Options& o) { o.force_command = "say \"hi\""; }},
      {R"(command="a\b")", "", [](Options& o) { o.force_command = "a\\b"; }},    // a lone \ is kept
      {R"(command="a\\b")", "", [](Options& o) { o.force_command = "a\\\\b"; }},  // so are both
      {R"(command="a\\"")", "", [](Options& o) { o.force_command = "a\\\""; }},   // \ then \"
      {"command=\"a, b\tc\" ssh-rsa", " ssh-rsa", [](Options& o) { o.force_command = "a, b\tc"; }},
      {R"(command="echo \"x y\"",no-pty ssh-rsa)", " ssh-rsa",
       [](Options& o) { o.force_command = "echo \"x y\"", o.permit_pty = false; }},
      {"principals=\"gregor,josef,K\"", "", [](Options& o) { o.cert_principals = "gregor,josef,K"; }},
      {"from=\"*.example.com,!10.0.0.1\"", "",
       [](Options& o) { o.required_from_host_keys = "*.example.com,!10.0.0.1"; }},  // not checked here
      {"command=\"a\",principals=\"b\",from=\"c\"", "",
       [](Options& o) { o.force_command = "a", o.cert_principals = "b", o.required_from_host_keys = "c"; }},
      // environment=: the first definition of a name wins, names are exact.
      {"environment=\"A=1\"", "", [](Options& o) { o.environment = {"A=1"}; }},
      {"environment=\"_x9==\"", "", [](Options& o) { o.environment = {"_x9=="}; }},
      {"environment=\"A=\"", "", [](Options& o) { o.environment = {"A="}; }},
      {"environment=\"A=1\",environment=\"A=2\"", "", [](Options& o) { o.environment = {"A=1"}; }},
      {"environment=\"A=1\",environment=\"a=2\"", "", [](Options& o) { o.environment = {"A=1", "a=2"}; }},
      {"environment=\"AB=1\",environment=\"A=2\"", "", [](Options& o) { o.environment = {"AB=1", "A=2"}; }},
      // expiry-time=: UTC with Z or UTC in any case, else local time.
      {"expiry-time=\"20300101Z\"", "", [](Options& o) { o.expiry_time = 1893456000; }},
      {"expiry-time=\"20300101z\"", "", [](Options& o) { o.expiry_time = 1893456000; }},
      {"expiry-time=\"203001010102Z\"", "", [](Options& o) { o.expiry_time = 1893456000 + 3720; }},
      {"expiry-time=\"20300101010203Z\"", "", [](Options& o) { o.expiry_time = 1893456000 + 3723; }},
      {"expiry-time=\"20300101000000UTC\"", "", [](Options& o) { o.expiry_time = 1893456000; }},
      {"expiry-time=\"20300101000000utc\"", "", [](Options& o) { o.expiry_time = 1893456000; }},
      {"expiry-time=\"20300101\"", "", [](Options& o) { o.expiry_time = LocalTime(2030, 1, 1); }},
      {"expiry-time=\"203001011230\"", "", [](Options& o) { o.expiry_time = LocalTime(2030, 1, 1, 12, 30); }},
      {"expiry-time=\"19700101000001Z\"", "", [](Options& o) { o.expiry_time = 1; }},
      {"expiry-time=\"99991231235959Z\"", "", [](Options& o) { o.expiry_time = kMaxExpiryTime; }},
      // glibc's strptime takes day 30 in February; timegm moves it on.
      {"expiry-time=\"20300230Z\"", "", [](Options& o) { o.expiry_time = 1893456000 + 60 * 86400; }},
      {"expiry-time=\"20310101Z\",expiry-time=\"20300101Z\"", "", [](Options& o) { o.expiry_time = 1893456000; }},
      {"expiry-time=\"20300101Z\",expiry-time=\"20310101Z\"", "", [](Options& o) { o.expiry_time = 1893456000; }},
      // permitopen=: host:port, [address]:port, '/' as separator, port *.
      {"permitopen=\"foo:123\",permitopen=\"bar:*\"", "", [](Options& o) { o.permitopen = {"foo:123", "bar:*"}; }},
      {"permitopen=\"[::1]:22\"", "", [](Options& o) { o.permitopen = {"[::1]:22"}; }},
      {"permitopen=\"[::1]/22\"", "", [](Options& o) { o.permitopen = {"[::1]/22"}; }},
      {"permitopen=\"host/22\"", "", [](Options& o) { o.permitopen = {"host/22"}; }},
      {"permitopen=\":80\"", "", [](Options& o) { o.permitopen = {":80"}; }},  // an empty host passes
      {"permitopen=\"*:*\"", "", [](Options& o) { o.permitopen = {"*:*"}; }},
      {"permitopen=\"h:65535\"", "", [](Options& o) { o.permitopen = {"h:65535"}; }},
      // The port goes through strtoll: leading blanks, a sign, zeros.
      {"permitopen=\"h: 80\"", "", [](Options& o) { o.permitopen = {"h: 80"}; }},
      {"permitopen=\"h:+80\"", "", [](Options& o) { o.permitopen = {"h:+80"}; }},
      {"permitopen=\"h:0080\"", "", [](Options& o) { o.permitopen = {"h:0080"}; }},
      {"permitopen=\"" + kHost1024 + ":1\"", "", [](Options& o) { o.permitopen = {kHost1024 + ":1"}; }},
      // permitlisten=: a bare port listens on every address.
      {"permitlisten=\"80\"", "", [](Options& o) { o.permitlisten = {"*:80"}; }},
      {"permitlisten=\"*\"", "", [](Options& o) { o.permitlisten = {"*:*"}; }},
      {"permitlisten=\"localhost:8080\"", "", [](Options& o) { o.permitlisten = {"localhost:8080"}; }},
      {"permitlisten=\"[::1]:80\"", "", [](Options& o) { o.permitlisten = {"[::1]:80"}; }},
      // tunnel=: "any" or a unit number; the last one wins.
      {"tunnel=\"0\"", "", [](Options& o) { o.tunnel = 0; }},
      {"tunnel=\"1\"", "", [](Options& o) { o.tunnel = 1; }},
      {"tunnel=\"any\"", "", [](Options& o) { o.tunnel = kTunnelAny; }},
      {"tunnel=\"ANY\"", "", [](Options& o) { o.tunnel = kTunnelAny; }},
      {"tunnel=\"2147483645\"", "", [](Options& o) { o.tunnel = kTunnelMax; }},
      {"tunnel=\" 5\"", "", [](Options& o) { o.tunnel = 5; }},
      {"tunnel=\"+5\"", "", [](Options& o) { o.tunnel = 5; }},
      {"tunnel=\"-0\"", "", [](Options& o) { o.tunnel = 0; }},
      {"tunnel=\"1\",tunnel=\"2\"", "", [](Options& o) { o.tunnel = 2; }},
      // Everything at once.
      {"restrict,pty,command=\"ls\",environment=\"A=1\",permitopen=\"h:1\",permitlisten=\"2\","
       "tunnel=\"3\",expiry-time=\"20300101Z\",no-touch-required,verify-required,cert-authority,"
       "principals=\"p\",from=\"f\" key",
       " key",
       [](Options& o) {
         Restrict(o);
         o.permit_pty = true;
         o.force_command = "ls";
         o.environment = {"A=1"};
         o.permitopen = {"h:1"};
         o.permitlisten = {"*:2"};
         o.tunnel = 3;
         o.expiry_time = 1893456000;
         o.no_touch_required = true;
         o.verify_required = true;
         o.cert_authority = true;
         o.cert_principals = "p";
         o.required_from_host_keys = "f";
       }},
  };
}

TEST(ParseOptions, Accepts) {
  for (AcceptCase& c : AcceptCases()) {
    SCOPED_TRACE("input: " + c.input);
    auto parsed = ParseOptions(c.input);
    ASSERT_TRUE(parsed) << parsed.error().code << ": " << parsed.error().message;
    EXPECT_EQ(parsed->options, With(c.expect));
    EXPECT_EQ(parsed->length, c.input.size() - c.rest.size());
    EXPECT_EQ(c.input.substr(parsed->length), c.rest);
  }
}

TEST(ParseOptions, ServiceNamePorts) {
  if (!HaveTcpService("ssh")) GTEST_SKIP() << "no \"ssh\" entry in the services database";
  auto parsed = ParseOptions("permitopen=\"host:ssh\",permitlisten=\"ssh\"");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->options.permitopen, std::vector<std::string>{"host:ssh"});
  EXPECT_EQ(parsed->options.permitlisten, std::vector<std::string>{"*:ssh"});
}

// Every accepted input has a canonical form that reads back to the same
// options and is its own canonical form.
TEST(SerializeOptions, RoundTripsEveryAcceptedCase) {
  for (AcceptCase& c : AcceptCases()) {
    auto parsed = ParseOptions(c.input);
    if (!parsed) continue;
    std::string canonical = SerializeOptions(parsed->options);
    SCOPED_TRACE("input: " + c.input + "\ncanonical: " + canonical);
    auto again = ParseOptions(canonical);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->options, parsed->options);
    EXPECT_EQ(again->length, canonical.size());
    EXPECT_EQ(SerializeOptions(again->options), canonical);
  }
}

// ------------------------------------------------------------------ reject

struct RejectCase {
  std::string input;
  std::string code;
  std::string message;  // a part of the message: sshd's reason, the option, the place
  const char* why;
};

std::vector<RejectCase> RejectCases() {
  const std::string h1025 = std::string(1025, 'h');
  return {
      // Separators.
      {"restrict,", "unexpected_end", "unexpected end-of-options at byte 9", "a comma must be followed by an option"},
      {",", "unexpected_end", "unexpected end-of-options", "an empty option, then nothing"},
      {",,", "unexpected_end", "unexpected end-of-options", "empty options, then nothing"},
      {"restrict\n", "unknown_option", "at byte 8", "only space and tab end the field; '\\n' is not one"},
      {"restrict;pty", "unknown_option", "unknown key option at byte 8", "options are separated by commas"},
      // Unknown names.
      {"BLAH", "unknown_option", "unknown key option at byte 0 (\"BLAH\")", "not an option"},
      {"BLAH,", "unknown_option", "unknown key option", "not an option, then a comma"},
      {"BLAH ", "unknown_option", "unknown key option", "not an option, then a blank"},
      {"no-pty,BLAH ssh-rsa", "unknown_option", "at byte 7 (\"BLAH\")", "the second option is unknown"},
      {"foo:bar", "unknown_option", "unknown key option", "a permitopen value without its name"},
      {"[:", "unknown_option", "unknown key option", "a permitopen value without its name"},
      {"env=\"A=1\"", "unknown_option", "unknown key option", "OpenSSH knows environment=, not env="},
      {"ptyfoo", "unknown_option", "unknown key option at byte 3 (\"ptyfoo\")", "\"pty\" matches as a prefix, then \"foo\" is left"},
      {"restricted", "unknown_option", "at byte 8", "\"restrict\" matches as a prefix"},
      {"no-ptyx", "unknown_option", "at byte 6", "\"no-pty\" matches as a prefix"},
      {"no-restrict", "unknown_option", "at byte 0", "restrict cannot be negated"},
      {"no-cert-authority", "unknown_option", "at byte 0", "cert-authority cannot be negated"},
      {"no-command=\"x\"", "unknown_option", "at byte 0", "valued options cannot be negated"},
      {"command", "unknown_option", "at byte 0", "a valued option needs ="},
      {"command =\"x\"", "unknown_option", "at byte 0", "no blank before ="},
      {"\"command\"", "unknown_option", "at byte 0", "an option name is not quoted"},
      {"command=\"x\"y", "unknown_option", "at byte 11", "text after the closing quote"},
      // Quoting.
      {"command=oops", "bad_quoting", "missing start quote in option \"command\" at byte 0", "values are quoted"},
      {"principals=estragon", "bad_quoting", "missing start quote in option \"principals\"", "values are quoted"},
      {"from=127.0.0.1", "bad_quoting", "missing start quote in option \"from\"", "values are quoted"},
      {"no-pty,tunnel=1", "bad_quoting", "missing start quote in option \"tunnel\" at byte 7", "values are quoted"},
      {"command=\"x", "bad_quoting", "missing end quote in option \"command\"", "the quote is not closed"},
      {R"(command="x\")", "bad_quoting", "missing end quote", "\\\" is a quote inside the value"},
      {std::string("command=\"a\0b\"", 13), "bad_quoting", "missing end quote", "a NUL ends the text"},
      {"command=\"a b", "bad_quoting", "missing end quote", "the quote is not closed before the end"},
      // Repeats.
      {"command=\"a\",command=\"b\"", "duplicate_option", "multiple \"command\" clauses in option \"command\" at byte 12",
       "command= may be given once"},
      {"command=\"a\",command=oops", "duplicate_option", "multiple \"command\" clauses",
       "the repeat is found before the value is read"},
      {"principals=\"a\",principals=\"b\"", "duplicate_option", "multiple \"principals\" clauses", "once"},
      {"from=\"a\",from=\"b\"", "duplicate_option", "multiple \"from\" clauses", "once"},
      // environment=.
      {"environment=\",=bah\"", "bad_option_value", "invalid environment string in option \"environment\"",
       "the name is \",\""},
      {"environment=\"A\"", "bad_option_value", "invalid environment string", "no '='"},
      {"environment=\"=1\"", "bad_option_value", "invalid environment string", "an empty name"},
      {"environment=\"A-B=1\"", "bad_option_value", "invalid environment string", "'-' in the name"},
      {"environment=\"A B=1\"", "bad_option_value", "invalid environment string", "a blank in the name"},
      {"environment=A=1", "bad_quoting", "missing start quote", "values are quoted"},
      // expiry-time=.
      {"expiry-time=\"2030\"", "bad_option_value", "invalid expires time in option \"expiry-time\"", "too short"},
      {"expiry-time=\"2030010100Z\"", "bad_option_value", "invalid expires time", "10 digits"},
      {"expiry-time=\"20301301Z\"", "bad_option_value", "invalid expires time", "month 13"},
      {"expiry-time=\"20300132Z\"", "bad_option_value", "invalid expires time", "day 32"},
      {"expiry-time=\"2030010a\"", "bad_option_value", "invalid expires time", "a letter in the day"},
      {"expiry-time=\"20300101XZ\"", "bad_option_value", "invalid expires time", "9 characters before Z"},
      {"expiry-time=\"20300101Z \"", "bad_option_value", "invalid expires time", "a blank after the Z"},
      {"expiry-time=\"20300101ZZ\"", "bad_option_value", "invalid expires time", "only one suffix is removed"},
      {"expiry-time=\"19700101Z\"", "bad_option_value", "invalid expires time", "0 means no expiry"},
      {"expiry-time=\"19691231Z\"", "bad_option_value", "invalid expires time", "before 1970"},
      {"expiry-time=\"99991231235960Z\"", "bad_option_value", "after 9999-12-31T23:59:59Z",
       "keyward could not write it back"},
      // permitopen= and permitlisten=.
      {"permitopen=\"host\"", "bad_option_value", "invalid permission port in option \"permitopen\"", "no port"},
      {"permitopen=\"\"", "bad_option_value", "invalid permission port", "nothing at all"},
      {"permitopen=\"host:\"", "bad_option_value", "invalid permission port", "an empty port"},
      {"permitopen=\"host:0\"", "bad_option_value", "invalid permission port", "port 0"},
      {"permitopen=\"host:65536\"", "bad_option_value", "invalid permission port", "above 65535"},
      {"permitopen=\"host:-1\"", "bad_option_value", "invalid permission port", "negative"},
      {"permitopen=\"host:80 \"", "bad_option_value", "invalid permission port", "a blank after the port"},
      {"permitopen=\"host:0x50\"", "bad_option_value", "invalid permission port", "decimal only"},
      {"permitopen=\"a:b:c\"", "bad_option_value", "invalid permission port", "the port is \"b:c\""},
      {"permitopen=\"host:no-such-service-keyward\"", "bad_option_value", "invalid permission port",
       "an unknown service"},
      {"permitopen=\"[::1]\"", "bad_option_value", "invalid permission port", "no port after ]"},
      {"permitopen=\"[::1\"", "bad_option_value", "invalid permission hostname", "no closing ]"},
      {"permitopen=\"[::1]x:80\"", "bad_option_value", "invalid permission hostname", "text after ]"},
      {"permitopen=\"" + h1025 + ":80\"", "bad_option_value", "invalid permission hostname",
       "hosts are shorter than 1025 bytes"},
      {"permitlisten=\"host/80\"", "bad_option_value", "invalid permission port in option \"permitlisten\"",
       "no ':', so it becomes *:host/80"},
      {"permitlisten=\"\"", "bad_option_value", "invalid permission port", "becomes *:"},
      {"permitopen=h:1", "bad_quoting", "missing start quote", "values are quoted"},
      // tunnel=.
      {"tunnel=\"blah\"", "bad_option_value", "invalid tun device in option \"tunnel\"", "not a number"},
      {"tunnel=\"\"", "bad_option_value", "invalid tun device", "empty"},
      {"tunnel=\"-1\"", "bad_option_value", "invalid tun device", "negative"},
      {"tunnel=\"2147483646\"", "bad_option_value", "invalid tun device", "SSH_TUNID_ERR"},
      {"tunnel=\"2147483647\"", "bad_option_value", "invalid tun device", "SSH_TUNID_ANY is written \"any\""},
      {"tunnel=\"1 \"", "bad_option_value", "invalid tun device", "a blank after the number"},
      {"tunnel=\"0x1\"", "bad_option_value", "invalid tun device", "decimal only"},
      {"tunnel=\"anything\"", "bad_option_value", "invalid tun device", "\"any\" must be the whole value"},
  };
}

TEST(ParseOptions, Rejects) {
  for (const RejectCase& c : RejectCases()) {
    SCOPED_TRACE("input: " + c.input + " (" + c.why + ")");
    auto parsed = ParseOptions(c.input);
    ASSERT_FALSE(parsed) << "accepted as: " << SerializeOptions(parsed->options);
    EXPECT_EQ(parsed.error().code, c.code) << parsed.error().message;
    EXPECT_NE(parsed.error().message.find(c.message), std::string::npos) << parsed.error().message;
  }
}

TEST(ParseOptions, MessagesAreSafeToPrint) {
  auto parsed = ParseOptions("pty\x01\x7f\"x");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("pty\\x01\\x7f\\x22x"), std::string::npos) << parsed.error().message;
}

// ------------------------------------------------------------------ limits

TEST(ParseOptions, TextLimit) {
  std::string text(kMaxOptionsText, ' ');
  EXPECT_TRUE(ParseOptions(text));
  text.push_back(' ');
  auto parsed = ParseOptions(text);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, "options_too_long");
}

TEST(ParseOptions, CanonicalFormMustFitTheLimit) {
  // permitlisten="1" is written back as permitlisten="*:1", two bytes
  // longer; a long command fills the rest of the limit.
  std::string text = Repeat("permitlisten=\"1\"", kMaxPermits + 1) + ",command=\"";
  text += std::string(kMaxOptionsText - text.size() - 1, 'x') + "\"";
  ASSERT_EQ(text.size(), kMaxOptionsText);
  auto parsed = ParseOptions(text);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, "options_too_long");
  EXPECT_NE(parsed.error().message.find("canonical"), std::string::npos) << parsed.error().message;

  // Two bytes of command fewer per extra byte fit again.
  text.erase(text.size() - 1 - 2 * (kMaxPermits + 1), 2 * (kMaxPermits + 1));
  auto fits = ParseOptions(text);
  ASSERT_TRUE(fits) << fits.error().message;
  EXPECT_EQ(SerializeOptions(fits->options).size(), kMaxOptionsText);
}

std::string Environment(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) out += ",";
    out += "environment=\"V" + std::to_string(i) + "=1\"";
  }
  return out;
}

// sshd checks "count > SSH_AUTHOPT_ENV_MAX" before adding: 1025 fit.
TEST(ParseOptions, EnvironmentLimit) {
  auto full = ParseOptions(Environment(kMaxEnvironment + 1));
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->options.environment.size(), kMaxEnvironment + 1);

  auto over = ParseOptions(Environment(kMaxEnvironment + 2));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, "too_many_options");
  EXPECT_NE(over.error().message.find("too many environment strings"), std::string::npos);

  // Counted before the value is read: even a repeat of a kept name fails.
  auto repeat = ParseOptions(Environment(kMaxEnvironment + 1) + ",environment=\"V0=2\"");
  ASSERT_FALSE(repeat);
  EXPECT_EQ(repeat.error().code, "too_many_options");

  // Repeats below the limit are dropped, not counted.
  auto repeats = ParseOptions(Repeat("environment=\"A=1\"", 2000));
  ASSERT_TRUE(repeats) << repeats.error().message;
  EXPECT_EQ(repeats->options.environment.size(), 1u);
}

TEST(ParseOptions, PermitLimits) {
  for (const char* item : {"permitopen=\":1\"", "permitlisten=\":1\""}) {
    SCOPED_TRACE(item);
    auto full = ParseOptions(Repeat(item, kMaxPermits + 1));
    ASSERT_TRUE(full) << full.error().message;
    EXPECT_EQ(full->options.permitopen.size() + full->options.permitlisten.size(), kMaxPermits + 1);

    auto over = ParseOptions(Repeat(item, kMaxPermits + 2));
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, "too_many_options");
    EXPECT_NE(over.error().message.find("too many permission directives"), std::string::npos);
  }
}

// ------------------------------------------------------------ serialization

TEST(SerializeOptions, CanonicalText) {
  struct Case {
    Edit edit;
    std::string text;
  };
  const Case cases[] = {
      {nullptr, ""},
      {Restrict, "restrict"},
      {[](Options& o) { Restrict(o), o.permit_pty = o.permit_user_rc = true; }, "restrict,pty,user-rc"},
      {[](Options& o) { o.permit_x11_forwarding = o.permit_pty = false; }, "no-x11-forwarding,no-pty"},
      {[](Options& o) { o = CertificateDefaults(); },
       "no-port-forwarding,no-agent-forwarding,no-x11-forwarding,no-pty,no-user-rc"},
      {[](Options& o) { o.cert_authority = true, o.cert_principals = "a,b"; }, "cert-authority,principals=\"a,b\""},
      {[](Options& o) { o.force_command = "say \"hi\", then \\ stop"; }, R"(command="say \"hi\", then \ stop")"},
      {[](Options& o) { o.environment = {"A=1", "B=2"}; }, "environment=\"A=1\",environment=\"B=2\""},
      {[](Options& o) { o.permitlisten = {"*:80"}, o.permitopen = {"h:1"}; },
       "permitopen=\"h:1\",permitlisten=\"*:80\""},
      {[](Options& o) { o.tunnel = kTunnelAny; }, "tunnel=\"any\""},
      {[](Options& o) { o.tunnel = 0; }, "tunnel=\"0\""},
      {[](Options& o) { o.expiry_time = 1893456000 + 3723; }, "expiry-time=\"20300101010203Z\""},
      {[](Options& o) { o.expiry_time = kMaxExpiryTime; }, "expiry-time=\"99991231235959Z\""},
      {[](Options& o) { o.verify_required = o.no_touch_required = true; }, "no-touch-required,verify-required"},
      {[](Options& o) { o.required_from_host_keys = "10.0.0.0/8", o.force_command = "x"; },
       "command=\"x\",from=\"10.0.0.0/8\""},
      // No authorized_keys form: not written.
      {[](Options& o) { o.required_from_host_cert = "10.0.0.0/8"; }, ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SerializeOptions(With(c.edit)), c.text);
  }
}

// What cannot be written is written so that sshd refuses the line.
TEST(SerializeOptions, FailsClosed) {
  const Edit cases[] = {
      [](Options& o) { o.force_command = "ends in \\"; },
      [](Options& o) { o.cert_principals = std::string("a\0b", 3); },
      [](Options& o) { o.tunnel = -1; },
      [](Options& o) { o.tunnel = kTunnelMax + 1; },
      [](Options& o) { o.expiry_time = kMaxExpiryTime + 1; },
      [](Options& o) { o.expiry_time = ~std::uint64_t{0}; },
  };
  for (const Edit& edit : cases) {
    std::string text = SerializeOptions(With(edit));
    SCOPED_TRACE(text);
    EXPECT_NE(text.find("=(unrepresentable)"), std::string::npos);
    auto parsed = ParseOptions(text);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, "bad_quoting");
  }
}

TEST(CertificateDefaults, NothingPermitted) {
  Options o = CertificateDefaults();
  EXPECT_FALSE(o.permit_port_forwarding || o.permit_agent_forwarding || o.permit_x11_forwarding ||
               o.permit_pty || o.permit_user_rc);
  o.permit_port_forwarding = o.permit_agent_forwarding = o.permit_x11_forwarding = true;
  o.permit_pty = o.permit_user_rc = true;
  EXPECT_EQ(o, Options{});
}

}  // namespace
}  // namespace keyward::authkeys
