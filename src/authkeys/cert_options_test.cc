#include "authkeys/cert_options.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "wire/writer.h"

namespace keyward::authkeys {

void PrintTo(const Options& o, std::ostream* os);  // in options_test.cc

namespace {

using Edit = std::function<void(Options&)>;

// Option data that is one SSH string.
Bytes StringData(std::string_view s) {
  wire::Writer w;
  w.String(s);
  return w.Take();
}

Bytes Raw(std::string_view s) { return Bytes(s.begin(), s.end()); }

key::Certificate UserCert(std::vector<key::CertOption> critical, std::vector<key::CertOption> extensions) {
  key::Certificate c;
  c.type = key::CertType::kUser;
  c.critical_options = std::move(critical);
  c.extensions = std::move(extensions);
  return c;
}

Options FromDefaults(const Edit& edit) {
  Options o = CertificateDefaults();
  if (edit) edit(o);
  return o;
}

// ------------------------------------------------------------------ accept

struct AcceptCase {
  const char* what;
  std::vector<key::CertOption> critical, extensions;
  Edit expect;  // applied to CertificateDefaults()
};

std::vector<AcceptCase> AcceptCases() {
  return {
      {"nothing: nothing is permitted", {}, {}, nullptr},
      {"every permit extension",
       {},
       {{"permit-X11-forwarding", {}},
        {"permit-agent-forwarding", {}},
        {"permit-port-forwarding", {}},
        {"permit-pty", {}},
        {"permit-user-rc", {}}},
       [](Options& o) {
         o.permit_x11_forwarding = o.permit_agent_forwarding = o.permit_port_forwarding = true;
         o.permit_pty = o.permit_user_rc = true;
       }},
      {"permit-pty only", {}, {{"permit-pty", {}}}, [](Options& o) { o.permit_pty = true; }},
      {"no-touch-required", {}, {{"no-touch-required", {}}}, [](Options& o) { o.no_touch_required = true; }},
      {"verify-required", {{"verify-required", {}}}, {}, [](Options& o) { o.verify_required = true; }},
      {"force-command", {{"force-command", StringData("ls -l")}}, {}, [](Options& o) { o.force_command = "ls -l"; }},
      {"force-command with an empty command", {{"force-command", StringData("")}}, {},
       [](Options& o) { o.force_command = ""; }},
      {"a NUL as the last byte of a string is dropped, as sshbuf_get_cstring does",
       {{"force-command", StringData(std::string("ls\0", 3))}},
       {},
       [](Options& o) { o.force_command = "ls"; }},
      {"source-address is kept verbatim",
       {{"source-address", StringData("127.0.0.1/32,::1/128")}},
       {},
       [](Options& o) { o.required_from_host_cert = "127.0.0.1/32,::1/128"; }},
      {"every critical option at once",
       {{"force-command", StringData("true")},
        {"source-address", StringData("10.0.0.0/8")},
        {"verify-required", {}}},
       {},
       [](Options& o) {
         o.force_command = "true";
         o.required_from_host_cert = "10.0.0.0/8";
         o.verify_required = true;
       }},
      {"unknown extensions are ignored, whatever their data",
       {},
       {{"foo@example.com", Raw("anything")}, {"permit-pty", {}}},
       [](Options& o) { o.permit_pty = true; }},
      {"a critical option's name in the extensions is an unknown extension",
       {},
       {{"force-command", StringData("ls")}, {"source-address", Raw("junk")}},
       nullptr},
      {"extension names are exact: permit-x11-forwarding is unknown",
       {},
       {{"permit-x11-forwarding", {}}},
       nullptr},
      {"a trailing NUL in a name is not part of it",
       {},
       {{std::string("permit-pty\0", 11), {}}},
       [](Options& o) { o.permit_pty = true; }},
  };
}

TEST(OptionsFromCertificate, Accepts) {
  for (const AcceptCase& c : AcceptCases()) {
    SCOPED_TRACE(c.what);
    auto options = OptionsFromCertificate(UserCert(c.critical, c.extensions));
    ASSERT_TRUE(options) << options.error().code << ": " << options.error().message;
    EXPECT_EQ(*options, FromDefaults(c.expect));
  }
}

// ------------------------------------------------------------------ reject

struct RejectCase {
  const char* why;
  std::vector<key::CertOption> critical, extensions;
  std::string code;
  std::string message;  // a part of the message
};

std::vector<RejectCase> RejectCases() {
  return {
      {"an unknown critical option", {{"blah", StringData("foo")}}, {}, "unsupported_critical_option",
       "unsupported critical option \"blah\""},
      {"critical names are exact", {{"Force-Command", StringData("ls")}}, {}, "unsupported_critical_option",
       "\"Force-Command\""},
      {"an extension's name among the critical options", {{"permit-pty", {}}}, {}, "unsupported_critical_option",
       "\"permit-pty\""},
      {"verify-required with data", {{"verify-required", Raw("x")}}, {}, "bad_certificate_option",
       "corrupt (extra data)"},
      {"a permit extension with data", {}, {{"permit-pty", StringData("")}}, "bad_certificate_option",
       "extension \"permit-pty\" is corrupt (extra data)"},
      {"no-touch-required with data", {}, {{"no-touch-required", Raw("\x01")}}, "bad_certificate_option",
       "corrupt (extra data)"},
      {"force-command data that is not a string", {{"force-command", Raw("ls")}}, {}, "bad_certificate_option",
       "cannot be parsed"},
      {"force-command with no data", {{"force-command", {}}}, {}, "bad_certificate_option", "cannot be parsed"},
      {"force-command with bytes after its string", {{"force-command", Raw(std::string("\0\0\0\x02lsX", 7))}},
       {}, "bad_certificate_option", "corrupt (extra data)"},
      {"force-command with a NUL inside", {{"force-command", StringData(std::string("a\0b", 3))}}, {},
       "bad_certificate_option", "NUL"},
      {"force-command twice",
       {{"force-command", StringData("a")}, {"force-command", StringData("a")}},
       {},
       "bad_certificate_option",
       "appears more than once"},
      {"source-address twice",
       {{"source-address", StringData("10.0.0.0/8")}, {"source-address", StringData("10.0.0.0/8")}},
       {},
       "bad_certificate_option",
       "appears more than once"},
      {"source-address that is not an address list", {{"source-address", StringData("xxxxx")}}, {},
       "bad_certificate_option", "source-address\" has invalid contents"},
      {"source-address with host bits set", {{"source-address", StringData("10.1.2.3/8")}}, {},
       "bad_certificate_option", "10.0.0.0/8"},
      {"source-address that is empty", {{"source-address", StringData("")}}, {}, "bad_certificate_option",
       "empty"},
      {"a NUL inside a critical option's name", {{std::string("force-command\0x", 15), StringData("ls")}}, {},
       "bad_certificate_option", "NUL byte in its name"},
      {"a NUL inside an extension's name", {}, {{std::string("x\0y", 3), {}}}, "bad_certificate_option",
       "NUL byte in its name"},
  };
}

TEST(OptionsFromCertificate, Rejects) {
  for (const RejectCase& c : RejectCases()) {
    SCOPED_TRACE(c.why);
    auto options = OptionsFromCertificate(UserCert(c.critical, c.extensions));
    ASSERT_FALSE(options) << "accepted as: " << SerializeOptions(*options);
    EXPECT_EQ(options.error().code, c.code) << options.error().message;
    EXPECT_NE(options.error().message.find(c.message), std::string::npos) << options.error().message;
  }
}

TEST(OptionsFromCertificate, RejectsHostCertificates) {
  key::Certificate host = UserCert({}, {{"permit-pty", {}}});
  host.type = key::CertType::kHost;
  auto options = OptionsFromCertificate(host);
  ASSERT_FALSE(options);
  EXPECT_EQ(options.error().code, "not_user_certificate");
}

// -------------------------------------------------------------------- merge

Options Keys(std::string_view text) {
  auto parsed = ParseOptions(text);
  EXPECT_TRUE(parsed) << text << ": " << parsed.error().message;
  return parsed ? parsed->options : Options{};
}

struct MergeCase {
  const char* what;
  Options primary, additional;
  Edit expect;  // applied to CertificateDefaults()
};

std::vector<MergeCase> MergeCases() {
  Options all = Options{};
  Options none = CertificateDefaults();
  Options source_a = none, source_b = none;
  source_a.required_from_host_cert = "10.0.0.0/8";
  source_b.required_from_host_cert = "192.0.2.0/24";
  auto expiring = [](std::uint64_t when) {
    Options o;
    o.expiry_time = when;
    return o;
  };
  auto forcing = [](const char* command) {
    Options o;
    o.force_command = command;
    return o;
  };
  auto allowing = [](Edit edit) {
    Options o;
    edit(o);
    return o;
  };
  const Edit all_permitted = [](Options& o) { o = Options{}; };
  return {
      {"both permit everything", all, all, all_permitted},
      {"nothing permitted on one side", all, none, nullptr},
      {"nothing permitted on the other", none, all, nullptr},
      {"each flag is AND-ed", Keys("no-pty,no-user-rc"), Keys("no-port-forwarding"),
       [](Options& o) { o.permit_agent_forwarding = o.permit_x11_forwarding = true; }},
      {"restricted, cert_authority and principals are cleared", Keys("restrict,cert-authority,principals=\"a\""),
       all, nullptr},
      {"no_touch_required needs both", allowing([](Options& o) { o.no_touch_required = true; }), all, all_permitted},
      {"no_touch_required on both", allowing([](Options& o) { o.no_touch_required = true; }),
       allowing([](Options& o) { o.no_touch_required = true; }),
       [](Options& o) { o = Options{}, o.no_touch_required = true; }},
      {"verify_required from either", all, allowing([](Options& o) { o.verify_required = true; }),
       [](Options& o) { o = Options{}, o.verify_required = true; }},
      {"from= is kept", Keys("from=\"a\""), all, [](Options& o) { o = Options{}, o.required_from_host_keys = "a"; }},
      {"source-address from the certificate", all, source_a,
       [](Options& o) { o.required_from_host_cert = "10.0.0.0/8"; }},
      {"source-address: the primary's wins", source_b, source_a,
       [](Options& o) { o.required_from_host_cert = "192.0.2.0/24"; }},
      {"tunnel: the primary's wins", Keys("tunnel=\"1\""), Keys("tunnel=\"2\""),
       [](Options& o) { o = Options{}, o.tunnel = 1; }},
      {"tunnel: else the additional's", all, Keys("tunnel=\"any\""),
       [](Options& o) { o = Options{}, o.tunnel = kTunnelAny; }},
      {"environment: the primary's list wins whole", Keys("environment=\"A=1\""),
       Keys("environment=\"B=2\",environment=\"C=3\""), [](Options& o) { o = Options{}, o.environment = {"A=1"}; }},
      {"environment: else the additional's", all, Keys("environment=\"B=2\""),
       [](Options& o) { o = Options{}, o.environment = {"B=2"}; }},
      {"permitopen: the primary's list wins whole", Keys("permitopen=\"a:1\""),
       Keys("permitopen=\"b:2\",permitopen=\"c:3\""), [](Options& o) { o = Options{}, o.permitopen = {"a:1"}; }},
      {"permitopen: else the additional's", all, Keys("permitopen=\"b:2\""),
       [](Options& o) { o = Options{}, o.permitopen = {"b:2"}; }},
      {"permitlisten: the primary's list wins whole", Keys("permitlisten=\"1\""), Keys("permitlisten=\"2\""),
       [](Options& o) { o = Options{}, o.permitlisten = {"*:1"}; }},
      {"permitlisten: else the additional's", all, Keys("permitlisten=\"2\""),
       [](Options& o) { o = Options{}, o.permitlisten = {"*:2"}; }},
      {"force-command from the primary", forcing("a"), all, [](Options& o) { o = Options{}, o.force_command = "a"; }},
      {"force-command from the additional", all, forcing("b"),
       [](Options& o) { o = Options{}, o.force_command = "b"; }},
      {"the same force-command on both", forcing("c"), forcing("c"),
       [](Options& o) { o = Options{}, o.force_command = "c"; }},
      {"expiry: the earliest", expiring(200), expiring(100), [](Options& o) { o = Options{}, o.expiry_time = 100; }},
      {"expiry: the earliest, other way", expiring(100), expiring(200),
       [](Options& o) { o = Options{}, o.expiry_time = 100; }},
      {"expiry: only the primary's", expiring(100), all, [](Options& o) { o = Options{}, o.expiry_time = 100; }},
      {"expiry: only the additional's", all, expiring(100), [](Options& o) { o = Options{}, o.expiry_time = 100; }},
  };
}

TEST(MergeOptions, Semantics) {
  for (const MergeCase& c : MergeCases()) {
    SCOPED_TRACE(c.what);
    auto merged = MergeOptions(c.primary, c.additional);
    ASSERT_TRUE(merged) << merged.error().message;
    EXPECT_EQ(*merged, FromDefaults(c.expect));
  }
}

TEST(MergeOptions, DifferentForcedCommandsConflict) {
  Options primary, additional;
  primary.force_command = "bar";
  additional.force_command = "foo";
  auto merged = MergeOptions(primary, additional);
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error().code, "force_command_conflict");
  EXPECT_NE(merged.error().message.find("forced command options do not match"), std::string::npos);
  EXPECT_NE(merged.error().message.find("\"bar\""), std::string::npos);
  EXPECT_NE(merged.error().message.find("\"foo\""), std::string::npos);
}

}  // namespace
}  // namespace keyward::authkeys
