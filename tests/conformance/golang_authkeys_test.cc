// golang.org/x/crypto/ssh's ParseAuthorizedKey cases
// (../shared/conformance/golang-x-crypto/authorized_keys_cases.json), run
// through keyward's authorized_keys line reader.
//
// Go is called repeatedly on what is left of the input, skipping blank,
// '#' and unparsable lines; here the input is split on '\n' and every line
// is read on its own, which gives the same sequence of keys. Where Go and
// OpenSSH disagree, OpenSSH wins (keyward must accept exactly what sshd
// accepts): those cases have their own tests below, named for OpenSSH's
// behaviour, and the comment says what Go does instead.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "authkeys/line.h"
#include "authkeys/options.h"
#include "key/fingerprint.h"

namespace keyward::authkeys {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDir = fs::path(KEYWARD_CONFORMANCE_DIR) / "golang-x-crypto";

const json& Cases() {
  static const json doc = [] {
    std::ifstream in(kDir / "authorized_keys_cases.json");
    if (!in) return json::object();
    return json::parse(in);
  }();
  return doc;
}

const json& Case(const std::string& id) {
  static const json none = json::object();
  if (Cases().contains("cases")) {
    for (const auto& c : Cases()["cases"]) {
      if (c["id"] == id) return c;
    }
  }
  ADD_FAILURE() << "no case " << id << " in authorized_keys_cases.json";
  return none;
}

std::string TestKeyFingerprint() {
  return Cases().contains("test_key") ? Cases()["test_key"]["sha256_fingerprint"].get<std::string>() : "(missing)";
}

struct LineResult {
  std::size_t line = 0;  // 1-based
  Result<ParsedLine> parsed;
};

std::vector<std::string> SplitLines(const std::string& input) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = input.find('\n', start);
    lines.push_back(input.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return lines;
}

// The keys sshd would take from `input`, in order.
std::vector<AuthorizedKey> OpenSshKeys(const std::string& input, std::vector<LineResult>* refused = nullptr) {
  std::vector<AuthorizedKey> keys;
  std::size_t number = 0;
  for (const std::string& line : SplitLines(input)) {
    ++number;
    auto parsed = ParseAuthorizedKeysLine(line);
    if (!parsed) {
      if (refused != nullptr) refused->push_back({number, parsed});
      continue;
    }
    if (parsed->kind == LineKind::kKey) keys.push_back(std::move(*parsed->entry));
  }
  return keys;
}

std::vector<json> GoKeys(const json& c) {
  std::vector<json> out;
  for (const auto& r : c["results"]) {
    if (r.value("ok", false)) out.push_back(r);
  }
  return out;
}

// Go returns the options verbatim, split on unquoted commas: joined again
// they are the options field of the line.
std::string JoinOptions(const json& options) {
  std::string out;
  if (options.is_null()) return out;
  for (const auto& o : options) {
    if (!out.empty()) out.push_back(',');
    out += o.get<std::string>();
  }
  return out;
}

void ExpectSameKey(const AuthorizedKey& got, const json& want, const std::string& where) {
  const std::string key = want["key"].get<std::string>();
  if (key == "rsa_test_key") {
    EXPECT_FALSE(got.key.is_certificate()) << where;
    EXPECT_EQ(got.key.type_name(), "ssh-rsa") << where;
  } else {
    ASSERT_EQ(key, "certificate (ssh-rsa-cert-v01@openssh.com)") << where << ": unknown key kind in the data";
    EXPECT_TRUE(got.key.is_certificate()) << where;
    EXPECT_EQ(got.key.type_name(), "ssh-rsa-cert-v01@openssh.com") << where;
  }
  // The certificate certifies the test key too.
  EXPECT_EQ(key::Fingerprint(got.key), TestKeyFingerprint()) << where;
  EXPECT_EQ(got.comment, want["comment"].get<std::string>()) << where;

  // Go's option strings, as one options field, mean to OpenSSH exactly
  // what keyward read from the line.
  auto options = ParseOptions(JoinOptions(want["options"]));
  ASSERT_TRUE(options.has_value()) << where << ": " << options.error().message;
  EXPECT_EQ(got.options, options->options) << where;
}

// Cases where OpenSSH does not do what Go does; each has a test below.
const std::set<std::string> kOpenSshDiffers = {
    "go-ak-003", "go-ak-004", "go-ak-005", "go-ak-006", "go-ak-007", "go-ak-008",  // env= is not an OpenSSH option
    "go-ak-010",                                                                   // neither is shared-control
    "go-ak-018",                                                                   // rsa-sha2-512 as line type
    "go-ak-019",                                                                   // rsa-sha2-256 inside the blob
};

std::vector<std::string> AgreeingCaseIds() {
  std::vector<std::string> ids;
  if (Cases().contains("cases")) {
    for (const auto& c : Cases()["cases"]) {
      std::string id = c["id"].get<std::string>();
      if (kOpenSshDiffers.count(id) == 0) ids.push_back(id);
    }
  }
  if (ids.empty()) ids.push_back("(authorized_keys_cases.json missing)");
  return ids;
}

TEST(GolangAuthorizedKeys, DataIsThere) {
  ASSERT_TRUE(Cases().contains("cases")) << kDir;
  EXPECT_EQ(Cases()["cases"].size(), 22u);
  for (const auto& id : kOpenSshDiffers) EXPECT_FALSE(Case(id).empty()) << id;
}

class GolangAgreesWithOpenSsh : public testing::TestWithParam<std::string> {};

TEST_P(GolangAgreesWithOpenSsh, SameKeysCommentsAndOptions) {
  const json& c = Case(GetParam());
  ASSERT_TRUE(c.contains("input")) << GetParam();
  std::vector<AuthorizedKey> got = OpenSshKeys(c["input"].get<std::string>());
  std::vector<json> want = GoKeys(c);
  ASSERT_EQ(got.size(), want.size()) << GetParam() << ": keyward read " << got.size() << " keys, Go " << want.size();
  for (std::size_t i = 0; i < got.size(); ++i) ExpectSameKey(got[i], want[i], GetParam() + " key " + std::to_string(i));
}

INSTANTIATE_TEST_SUITE_P(Cases, GolangAgreesWithOpenSsh, testing::ValuesIn(AgreeingCaseIds()),
                         [](const auto& p) {
                           std::string name;
                           for (char ch : p.param) name.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
                           return name;
                         });

// go-ak-003..008: Go accepts any option name, so it reads env="..." lines.
// OpenSSH knows only environment="..."; sshauthopt_parse() fails with
// "unknown key option" and sshd ignores those lines. OpenSSH wins: every
// one of these lines is refused.
TEST(GolangAuthorizedKeys, OpenSshRefusesGosEnvOptionLines) {
  for (const char* id : {"go-ak-003", "go-ak-004", "go-ak-005", "go-ak-006", "go-ak-007", "go-ak-008"}) {
    const json& c = Case(id);
    ASSERT_TRUE(c.contains("input")) << id;
    std::vector<LineResult> refused;
    std::vector<AuthorizedKey> got = OpenSshKeys(c["input"].get<std::string>(), &refused);
    EXPECT_TRUE(got.empty()) << id << ": keyward accepted " << got.size() << " key(s) with env=";
    std::size_t env_lines = 0;
    for (const auto& r : refused) {
      if (r.parsed.error().code == "unknown_option") ++env_lines;
    }
    EXPECT_EQ(env_lines, GoKeys(c).size()) << id << ": each line Go read must be refused as an unknown option";
  }
}

// The same cases with OpenSSH's keyword, environment="...": the quoting and
// tokenising Go's cases test (quoted blanks, quoted commas, \" inside
// quotes, tabs, CRLF) then give what Go gives, and OpenSSH's dequoting
// turns \" into ".
TEST(GolangAuthorizedKeys, WithOpenSshsEnvironmentKeywordTokenisingMatchesGo) {
  for (const char* id : {"go-ak-003", "go-ak-004", "go-ak-005", "go-ak-006", "go-ak-007", "go-ak-008"}) {
    const json& c = Case(id);
    ASSERT_TRUE(c.contains("input")) << id;
    std::string input = c["input"].get<std::string>();
    for (std::size_t at = 0; (at = input.find("env=\"", at)) != std::string::npos; at += 12) {
      input.replace(at, 4, "environment=");
    }
    std::vector<AuthorizedKey> got = OpenSshKeys(input);
    std::vector<json> want = GoKeys(c);
    ASSERT_EQ(got.size(), want.size()) << id;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const std::string where = std::string(id) + " key " + std::to_string(i);
      EXPECT_EQ(key::Fingerprint(got[i].key), TestKeyFingerprint()) << where;
      EXPECT_EQ(got[i].comment, want[i]["comment"].get<std::string>()) << where;
      std::vector<std::string> env;
      bool no_port_forwarding = false;
      for (const auto& o : want[i]["options"]) {
        std::string opt = o.get<std::string>();
        if (opt == "no-port-forwarding") {
          no_port_forwarding = true;
          continue;
        }
        ASSERT_EQ(opt.rfind("env=\"", 0), 0u) << where << ": " << opt;
        std::string value = opt.substr(5, opt.size() - 6);  // inside the quotes
        for (std::size_t q = 0; (q = value.find("\\\"", q)) != std::string::npos; ++q) value.erase(q, 1);
        env.push_back(value);
      }
      EXPECT_EQ(got[i].options.environment, env) << where;
      EXPECT_EQ(got[i].options.permit_port_forwarding, !no_port_forwarding) << where;
    }
  }
}

// go-ak-010: both engines refuse line 1 (unterminated quote). Go then reads
// line 2 with env= and shared-control; OpenSSH knows neither option and
// refuses it too.
TEST(GolangAuthorizedKeys, OpenSshRefusesUnknownSharedControlOptionThatGoAccepts) {
  const json& c = Case("go-ak-010");
  ASSERT_TRUE(c.contains("input"));
  std::vector<LineResult> refused;
  EXPECT_TRUE(OpenSshKeys(c["input"].get<std::string>(), &refused).empty());
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].parsed.error().code, "unbalanced_quotes");
  EXPECT_EQ(refused[1].parsed.error().code, "unknown_option");
  // Even with environment=, shared-control stays unknown.
  auto line2 = ParseAuthorizedKeysLine(SplitLines(c["input"].get<std::string>())[1].replace(0, 4, "environment="));
  ASSERT_FALSE(line2.has_value());
  EXPECT_EQ(line2.error().code, "unknown_option");
}

// go-ak-018: Go refuses "rsa-sha2-512 <ssh-rsa blob>" as a type mismatch.
// OpenSSH 9.2's sshkey_read() maps rsa-sha2-512 to KEY_RSA, equal to the
// blob's type, and accepts the line (ssh-keygen -lf prints the key as RSA).
TEST(GolangAuthorizedKeys, OpenSshAcceptsSignatureAlgorithmAsLineTypeWhichGoRefuses) {
  const json& c = Case("go-ak-018");
  ASSERT_TRUE(c.contains("input"));
  ASSERT_FALSE(c["results"][0]["ok"].get<bool>());  // Go's answer
  std::vector<AuthorizedKey> got = OpenSshKeys(c["input"].get<std::string>());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key.type_name(), "ssh-rsa");
  EXPECT_EQ(key::Fingerprint(got[0].key), TestKeyFingerprint());
  EXPECT_EQ(got[0].comment, "user@host");
}

// go-ak-019: the blob's own type string is "rsa-sha2-256". Go refuses it
// ("signature algorithm isn't a key format"); OpenSSH 9.2's
// sshkey_from_blob() looks the name up with sshkey_type_from_name(), gets
// KEY_RSA and reads the key (ssh-keygen -lf prints its fingerprint, that of
// the canonical ssh-rsa encoding).
TEST(GolangAuthorizedKeys, OpenSshAcceptsSignatureAlgorithmInsideTheBlobWhichGoRefuses) {
  const json& c = Case("go-ak-019");
  ASSERT_TRUE(c.contains("input"));
  ASSERT_FALSE(c["results"][0]["ok"].get<bool>());
  std::vector<AuthorizedKey> got = OpenSshKeys(c["input"].get<std::string>());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key.type_name(), "ssh-rsa");
  EXPECT_EQ(key::Fingerprint(got[0].key), TestKeyFingerprint());
  EXPECT_EQ(got[0].key.ToText().substr(0, 8), "ssh-rsa ");
}

// The test key file itself, and the certificate file of
// TestAuthorizedKeyCertificate.
TEST(GolangAuthorizedKeys, TestKeyAndCertificateFiles) {
  for (const char* file : {"test_rsa.pub", "rsa-user-testcertificate-cert.pub"}) {
    std::ifstream in(kDir / file);
    std::string line;
    ASSERT_TRUE(std::getline(in, line)) << file;
    auto parsed = ParseAuthorizedKeysLine(line);
    ASSERT_TRUE(parsed.has_value()) << file << ": " << parsed.error().message;
    ASSERT_EQ(parsed->kind, LineKind::kKey);
    EXPECT_EQ(key::Fingerprint(parsed->entry->key), TestKeyFingerprint()) << file;
    EXPECT_EQ(parsed->entry->key.bits(), 2048u);
  }
}

}  // namespace
}  // namespace keyward::authkeys
