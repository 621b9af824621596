// keyward fingerprint = ssh-keygen -l. Every expected output below is what
// ssh-keygen -l -f (OpenSSH_9.2p1) printed for the same input, under LC_ALL=C.
#include "cli/fingerprint.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace keyward::cli {
namespace {

constexpr std::string_view kEd = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZ";
constexpr std::string_view kEdFp = "256 SHA256:L3k/oJubblSY0lB9Ulsl7emDMnRPKm/8udf2ccwk560";
constexpr std::string_view kRsa =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDLV5lUTt7FrADseB/CGhEZzpoojjEW5y8+ePvLppmK3MmMI18ud6vxzpK3bwZLYkVSyfJYI0HmIu"
    "Ghdu7yMrW6wb84gbq8C31Xoe9EORcIUuGSvDKdNSM1SjlhDquRblDFB8kToqXyx1lqrXecXylxIUOL0jE+u0rU1967pDJx+w== RSA test key #1";
constexpr std::string_view kEcdsa =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAxZW5ZDq1vcnSlYbTPvQGN3PbGgRO0ht5Rcd/"
    "JwWr5AAw2iPY4d/5Lxvybfb6ZttqsKJJUwhg38wpF5CCmlpQc=";

template <typename... Parts>
std::string S(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

CommandOutput Fingerprint(const std::string& content, key::FingerprintHash hash = key::FingerprintHash::kSha256,
                  bool from_stdin = false) {
  FingerprintRequest request;
  request.content = content;
  request.display_name = from_stdin ? "(stdin)" : "keys.txt";
  request.from_stdin = from_stdin;
  request.hash = hash;
  return RunFingerprint(request);
}

struct Case {
  std::string_view name;
  std::string input;
  std::string output;  // ssh-keygen -l's stdout
};

std::vector<Case> Cases() {
  const std::string ed = S(kEdFp, " ");
  return {
      {"comment", S(kEd, " alice@example.com\n"), S(ed, "alice@example.com (ED25519)\n")},
      {"no_comment", S(kEd, "\n"), S(ed, "no comment (ED25519)\n")},
      {"no_final_newline", S(kEd, " c"), S(ed, "c (ED25519)\n")},
      {"hash_is_not_a_comment", S(kEd, " #not a comment\n"), S(ed, "no comment (ED25519)\n")},
      {"host_name_becomes_the_comment", S("host.example.com,1.2.3.4 ", kEd, "\n"),
       S(ed, "host.example.com,1.2.3.4 (ED25519)\n")},
      {"trailing_comment_wins_over_host_name", S("host.example.com ", kEd, " real\n"), S(ed, "real (ED25519)\n")},
      {"quoted_options_become_the_comment", S("from=\"a b\" ", kEd, "\n"), S(ed, "from=\"a b\" (ED25519)\n")},
      {"ssh1_bit_count_line_is_skipped", S("2048 35 1234 c\n", kEd, "\n"), S(ed, "no comment (ED25519)\n")},
      {"number_then_blank_is_an_ssh1_bit_count", S("10 ", kEd, "\n", kEd), S(ed, "no comment (ED25519)\n")},
      {"number_that_overflows_int_to_zero_is_a_host_name", S("4294967296 ", kEd, "\n"),
       S(ed, "4294967296 (ED25519)\n")},
      {"blank_and_comment_lines", S("\n# c\n   \n\t# x\n", kEd, " k\n\n"), S(ed, "k (ED25519)\n")},
      {"leading_blanks", S(" \t ", kEd, " k\n"), S(ed, "k (ED25519)\n")},
      {"crlf_keeps_the_cr_in_the_comment", S(kEd, " c\r\n"), S(ed, "c\r (ED25519)\n")},
      {"nul_ends_the_line", S(kEd, std::string_view(" a\0b\n", 5)), S(ed, "a (ED25519)\n")},
      {"control_characters_are_escaped", S(kEd, " a\x01z\x7f\n"), S(ed, "a\\001z\\177 (ED25519)\n")},
      {"two_blanks_after_host_is_not_a_key", S("host  ", kEd, " c\n", kEd, " d"), S(ed, "d (ED25519)\n")},
      {"rsa_sha2_alias", S("rsa-sha2-512 ", std::string_view(kRsa).substr(8), "\n"),
       "1024 SHA256:l6itGumSMcRBBAFteCgmjQBIXqLK/jFGUH3viHX1RmE RSA test key #1 (RSA)\n"},
      {"ecdsa", S(kEcdsa, "\n"), "256 SHA256:8ty77fOpABat1y88aNdclQTfU+lVvWe7jYZGw8VYtfg no comment (ECDSA)\n"},

      // ssh-keygen keeps its comment pointer from line to line: a key line
      // without a comment prints what is now at that place in its line
      // buffer.
      {"stale_comment_shorter_line", S(kEd, " first comment\n", kEd, "\n"),
       S(ed, "first comment (ED25519)\n", ed, " (ED25519)\n")},
      {"stale_host_name_points_into_next_line", S("host1 ", kEd, "\n", kEd, "\n"),
       S(ed, "host1 (ED25519)\n", ed, S(kEd, " (ED25519)\n"))},
      {"stale_after_unreadable_line", S("garbage\n", kEd, "\n"), S(ed, kEd, " (ED25519)\n")},
      {"stale_after_leading_blanks", S("   x\n ", kEd, " #c\n"), S(ed, std::string_view(kEd).substr(2), " #c (ED25519)\n")},
      {"stale_from_a_longer_line", S(kRsa, "\n", kEd, "\n", kEd, " #c\n"),
       S("1024 SHA256:l6itGumSMcRBBAFteCgmjQBIXqLK/jFGUH3viHX1RmE RSA test key #1 (RSA)\n", ed,
         "RSA test key #1 (ED25519)\n", S(ed, "RSA test key #1 (ED25519)\n"))},
      {"stale_not_set_by_ssh1_line", S("2048 35 1234 c\n", kEd, "\n"), S(ed, "no comment (ED25519)\n")},
      {"stale_crlf", S(kEd, " c\r\n", kEd, "\r\n"), S(ed, "c\r (ED25519)\n", ed, " (ED25519)\n")},
      {"stale_nul", S(kEd, std::string_view(" comment with nul\0 tail\n", 24), kEd, "\n"),
       S(ed, "comment with nul (ED25519)\n", ed, " (ED25519)\n")},
  };
}

TEST(Fingerprint, PrintsWhatSshKeygenPrints) {
  for (const Case& c : Cases()) {
    CommandOutput out = Fingerprint(c.input);
    EXPECT_EQ(out.out, c.output) << c.name;
    EXPECT_EQ(out.exit_code, 0) << c.name;
  }
}

TEST(Fingerprint, Md5) {
  CommandOutput out = Fingerprint(S(kEd, " c\n"), key::FingerprintHash::kMd5);
  EXPECT_EQ(out.out, "256 MD5:c5:3e:72:c6:f9:55:58:47:5c:ad:d9:8f:89:9f:37:ea c (ED25519)\n");
}

TEST(Fingerprint, SkippedLinesAreNamedOnStderrWithTheirNumber) {
  CommandOutput out = Fingerprint(S("# header\n2048 35 1234 ssh1\n", kEd, " ok\nssh-ed25519 AAAA\n\nnot a key\n"));
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(out.out, S(kEdFp, " ok (ED25519)\n"));
  EXPECT_NE(out.err.find("keys.txt:2: "), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("keys.txt:4: "), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("keys.txt:6: "), std::string::npos) << out.err;
  EXPECT_EQ(out.err.find("keys.txt:1:"), std::string::npos) << out.err;
  EXPECT_EQ(out.err.find("keys.txt:3:"), std::string::npos) << out.err;
  EXPECT_EQ(out.err.find("keys.txt:5:"), std::string::npos) << out.err;
}

TEST(Fingerprint, ALineStartingWithAKeyTypeReportsItsOwnError) {
  CommandOutput out = Fingerprint("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34X\n");
  EXPECT_NE(out.err.find("keys.txt:1: not a public key: the data ends early"), std::string::npos) << out.err;
}

TEST(Fingerprint, NoKeyMeansExit255LikeSshKeygen) {
  for (std::string_view content : {"", "\n", "# only a comment\n", "garbage\n", "2048 35 1234 ssh1\n"}) {
    CommandOutput out = Fingerprint(std::string(content));
    EXPECT_EQ(out.exit_code, 255) << content;
    EXPECT_EQ(out.out, "") << content;
    EXPECT_NE(out.err.find("keys.txt is not a public key file.\n"), std::string::npos) << out.err;
  }
}

TEST(Fingerprint, PrivateKeyOnTheFirstLineIsRefused) {
  const std::string pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n";
  CommandOutput out = Fingerprint(S(pem, kEd, "\n"));
  EXPECT_EQ(out.exit_code, 255);
  EXPECT_EQ(out.out, "");
  EXPECT_NE(out.err.find("private key"), std::string::npos);
  // ssh-keygen only looks for private keys in files, not on standard input;
  // there the PEM lines are unreadable lines (and leave their stale comment).
  CommandOutput in = Fingerprint(S(pem, kEd, "\n"), key::FingerprintHash::kSha256, true);
  EXPECT_EQ(in.exit_code, 0);
  EXPECT_EQ(in.out, S(kEdFp, " ", kEd, " (ED25519)\n"));
}

TEST(Fingerprint, JsonListsKeysWithTheirOwnCommentsAndSkippedLines) {
  FingerprintRequest request;
  const std::string content = S("host1 ", kEd, "\n", kEd, "\nbroken\n", kEcdsa, " e\n");
  request.content = content;
  request.display_name = "k";
  request.json = true;
  CommandOutput out = RunFingerprint(request);
  EXPECT_EQ(out.exit_code, 0);
  auto doc = nlohmann::json::parse(out.out);
  EXPECT_EQ(doc["file"], "k");
  ASSERT_EQ(doc["keys"].size(), 3u);
  EXPECT_EQ(doc["keys"][0]["line"], 1);
  EXPECT_EQ(doc["keys"][0]["comment"], "host1");
  EXPECT_EQ(doc["keys"][1]["comment"], "");  // not ssh-keygen's stale text
  EXPECT_EQ(doc["keys"][2]["fingerprint"], "SHA256:8ty77fOpABat1y88aNdclQTfU+lVvWe7jYZGw8VYtfg");
  EXPECT_EQ(doc["keys"][2]["bits"], 256);
  EXPECT_EQ(doc["keys"][2]["type"], "ECDSA");
  EXPECT_EQ(doc["keys"][2]["key_type"], "ecdsa-sha2-nistp256");
  EXPECT_EQ(doc["keys"][2]["certificate"], false);
  ASSERT_EQ(doc["skipped"].size(), 1u);
  EXPECT_EQ(doc["skipped"][0]["line"], 3);
}

}  // namespace
}  // namespace keyward::cli
