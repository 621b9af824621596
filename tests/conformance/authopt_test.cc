// Every case of OpenSSH's regress/unittests/authopt (as recorded in
// ../shared/conformance/openssh/authopt/expected.json) run through keyward's
// options parser, certificate options and merge: same accept/reject, same
// value of every field the manifest lists.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "authkeys/cert_options.h"
#include "authkeys/options.h"
#include "key/public_key.h"

namespace keyward::authkeys {
namespace {

using nlohmann::json;

const std::string kDir = std::string(KEYWARD_CONFORMANCE_DIR) + "/openssh/authopt/";

const json& Manifest() {
  static const json manifest = [] {
    std::ifstream in(kDir + "expected.json");
    if (!in) return json();
    return json::parse(in, nullptr, /*allow_exceptions=*/false);
  }();
  return manifest;
}

std::vector<json> Cases(const std::string& group) {
  const json& m = Manifest();
  if (!m.is_object() || !m.contains(group)) return {};
  const json& g = m[group];
  const json& list = g.is_object() ? g["cases"] : g;
  return std::vector<json>(list.begin(), list.end());
}

std::string CaseName(const testing::TestParamInfo<json>& info) {
  std::string name = info.param.value("id", "case" + std::to_string(info.index));
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// Options in the manifest's schema ("fields"): tunnel is null, a unit
// number or "any".
json ToJson(const Options& o) {
  auto text = [](const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); };
  json tunnel = nullptr;
  if (o.tunnel) tunnel = *o.tunnel == kTunnelAny ? json("any") : json(*o.tunnel);
  return json{
      {"permit_port_forwarding", o.permit_port_forwarding},
      {"permit_agent_forwarding", o.permit_agent_forwarding},
      {"permit_x11_forwarding", o.permit_x11_forwarding},
      {"permit_pty", o.permit_pty},
      {"permit_user_rc", o.permit_user_rc},
      {"restricted", o.restricted},
      {"cert_authority", o.cert_authority},
      {"cert_principals", text(o.cert_principals)},
      {"force_command", text(o.force_command)},
      {"required_from_host_keys", text(o.required_from_host_keys)},
      {"required_from_host_cert", text(o.required_from_host_cert)},
      {"environment", o.environment},
      {"permitopen", o.permitopen},
      {"permitlisten", o.permitlisten},
      {"tunnel", tunnel},
      {"expiry_time", o.expiry_time},
      {"no_touch_required", o.no_touch_required},
      {"verify_required", o.verify_required},
  };
}

// Every field the case lists must be known and equal.
void ExpectFields(const json& expected, const Options& got) {
  ASSERT_TRUE(expected.is_object()) << expected;
  json actual = ToJson(got);
  for (const auto& [field, want] : expected.items()) {
    ASSERT_TRUE(actual.contains(field)) << "field \"" << field << "\" is not one keyward maps";
    EXPECT_EQ(actual[field], want) << "field " << field;
  }
}

Result<key::PublicKey> LoadCertificate(const std::string& file) {
  std::ifstream in(kDir + file, std::ios::binary);
  if (!in) return Fail("io", "cannot read " + kDir + file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto read = key::ReadKeyText(text);
  if (!read) return Fail(read.error());
  if (read->key.certificate() == nullptr) return Fail("not_certificate", file + " holds no certificate");
  return std::move(read->key);
}

Result<Options> CertificateOptions(const std::string& file) {
  auto cert = LoadCertificate(file);
  if (!cert) return Fail(cert.error());
  return OptionsFromCertificate(*cert->certificate());
}

// ----------------------------------------------------------------- manifest

TEST(AuthoptManifest, HasEveryGroupAndField) {
  const json& m = Manifest();
  ASSERT_TRUE(m.is_object()) << "cannot read " << kDir << "expected.json";
  EXPECT_EQ(Cases("authorized_keys_options").size(), 54u);
  EXPECT_EQ(Cases("certificate_options").size(), 17u);
  EXPECT_EQ(Cases("merge").size(), 92u);

  // The fields the manifest defines are exactly the ones keyward maps.
  std::set<std::string> defined, mapped;
  for (const auto& [field, doc] : m["fields"].items()) defined.insert(field);
  const json defaults = ToJson(Options{});
  for (const auto& [field, value] : defaults.items()) mapped.insert(field);
  EXPECT_EQ(defined, mapped);
}

TEST(AuthoptManifest, Defaults) {
  const json& d = Manifest()["defaults"];
  ASSERT_TRUE(d.is_object());
  EXPECT_EQ(ToJson(Options{}), d["authorized_keys_default"]);
  EXPECT_EQ(ToJson(CertificateDefaults()), d["empty_certificate_options"]);
  auto restricted = ParseOptions("restrict");
  ASSERT_TRUE(restricted) << restricted.error().message;
  EXPECT_EQ(ToJson(restricted->options), d["after_restrict"]);
}

// ------------------------------------------------------ authorized_keys options

class AuthorizedKeysOptions : public testing::TestWithParam<json> {};

TEST_P(AuthorizedKeysOptions, MatchesOpenSsh) {
  const json& c = GetParam();
  const std::string input = c["input"].get<std::string>();
  SCOPED_TRACE("input: " + input + " (" + c.value("upstream_test", "") + ")");
  auto parsed = ParseOptions(input);
  if (c["result"] == "reject") {
    ASSERT_FALSE(parsed) << "accepted; canonical form: " << SerializeOptions(parsed->options);
    // The message leads with OpenSSH's own reason.
    EXPECT_NE(parsed.error().message.find(c.value("error_string_in_source", "")), std::string::npos)
        << parsed.error().message;
    return;
  }
  ASSERT_EQ(c["result"], "accept");
  ASSERT_TRUE(parsed) << parsed.error().code << ": " << parsed.error().message;
  EXPECT_LE(parsed->length, input.size());
  ExpectFields(c["expected"], parsed->options);

  // What keyward would write reads back to the same options.
  std::string canonical = SerializeOptions(parsed->options);
  auto again = ParseOptions(canonical);
  ASSERT_TRUE(again) << canonical << ": " << again.error().message;
  EXPECT_EQ(again->length, canonical.size());
  ExpectFields(c["expected"], again->options);
  EXPECT_EQ(SerializeOptions(again->options), canonical);
}

INSTANTIATE_TEST_SUITE_P(OpenSsh, AuthorizedKeysOptions, testing::ValuesIn(Cases("authorized_keys_options")),
                         CaseName);

// ------------------------------------------------------- certificate options

class CertificateOptionCases : public testing::TestWithParam<json> {};

TEST_P(CertificateOptionCases, MatchesOpenSsh) {
  const json& c = GetParam();
  const std::string file = c["certificate"].get<std::string>();
  SCOPED_TRACE(file);
  auto cert = LoadCertificate(file);
  ASSERT_TRUE(cert) << cert.error().code << ": " << cert.error().message;
  auto options = OptionsFromCertificate(*cert->certificate());
  if (c["result"] == "reject") {
    ASSERT_FALSE(options) << "accepted: " << ToJson(*options);
    // Each refusal for its own reason.
    const std::string code = file == "host.cert"               ? "not_user_certificate"
                             : file == "unknown_critical.cert" ? "unsupported_critical_option"
                                                               : "bad_certificate_option";
    EXPECT_EQ(options.error().code, code) << options.error().message;
    return;
  }
  ASSERT_EQ(c["result"], "accept");
  ASSERT_TRUE(options) << options.error().code << ": " << options.error().message;
  ExpectFields(c["expected"], *options);
}

INSTANTIATE_TEST_SUITE_P(OpenSsh, CertificateOptionCases, testing::ValuesIn(Cases("certificate_options")),
                         CaseName);

// --------------------------------------------------------------------- merge

class MergeCases : public testing::TestWithParam<json> {};

TEST_P(MergeCases, MatchesOpenSsh) {
  const json& c = GetParam();
  const std::string keys_options = c["authorized_keys_options"].get<std::string>();
  const std::string file = c["certificate"].get<std::string>();
  SCOPED_TRACE("keys: " + keys_options + ", certificate: " + file);
  auto primary = ParseOptions(keys_options);
  ASSERT_TRUE(primary) << primary.error().message;
  auto additional = CertificateOptions(file);
  ASSERT_TRUE(additional) << additional.error().code << ": " << additional.error().message;
  auto merged = MergeOptions(primary->options, *additional);
  if (c["result"] == "reject") {
    ASSERT_FALSE(merged) << "merged: " << ToJson(*merged);
    EXPECT_EQ(merged.error().code, "force_command_conflict") << merged.error().message;
    return;
  }
  ASSERT_EQ(c["result"], "accept");
  ASSERT_TRUE(merged) << merged.error().code << ": " << merged.error().message;
  ExpectFields(c["expected"], *merged);
}

INSTANTIATE_TEST_SUITE_P(OpenSsh, MergeCases, testing::ValuesIn(Cases("merge")), CaseName);

}  // namespace
}  // namespace keyward::authkeys
