// One authorized_keys line, read as sshd 9.2 reads it
// (auth_check_authkey_line): blank and '#' lines are skipped, otherwise the
// line is "key" or "options key", the options end at the first blank outside
// double quotes and any number of blanks may follow them.
#include "authkeys/line.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "key/fingerprint.h"
#include "wire/base64.h"

namespace keyward::authkeys {
namespace {

constexpr std::string_view kEd = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZ";
constexpr std::string_view kEdFp = "SHA256:L3k/oJubblSY0lB9Ulsl7emDMnRPKm/8udf2ccwk560";
constexpr std::string_view kEdB64 = "AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZ";
constexpr std::string_view kRsaB64 =
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDLV5lUTt7FrADseB/CGhEZzpoojjEW5y8+ePvLppmK3MmMI18ud6vxzpK3bwZLYkVSyfJYI0HmIuGhdu7y"
    "MrW6wb84gbq8C31Xoe9EORcIUuGSvDKdNSM1SjlhDquRblDFB8kToqXyx1lqrXecXylxIUOL0jE+u0rU1967pDJx+w==";

std::string S(std::string_view a, std::string_view b = "", std::string_view c = "") {
  return std::string(a) + std::string(b) + std::string(c);
}

// Parses a line that must hold a key.
AuthorizedKey Key(const std::string& line) {
  auto r = ParseAuthorizedKeysLine(line);
  if (!r) {
    ADD_FAILURE() << "refused: " << line.substr(0, 80) << ": " << r.error().code << ": " << r.error().message;
    return *ParseAuthorizedKeysLine(std::string(kEd))->entry;
  }
  if (r->kind != LineKind::kKey || !r->entry) {
    ADD_FAILURE() << "not a key line: " << line.substr(0, 80);
    return *ParseAuthorizedKeysLine(std::string(kEd))->entry;
  }
  return std::move(*r->entry);
}

TEST(AuthorizedKeysLine, BlankLinesAreSkipped) {
  for (std::string_view line : {"", " ", "\t", " \t  ", "\r", "  \r"}) {
    auto r = ParseAuthorizedKeysLine(line);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->kind, LineKind::kBlank);
    EXPECT_FALSE(r->entry.has_value());
  }
}

TEST(AuthorizedKeysLine, CommentLinesAreSkipped) {
  for (std::string_view line : {"#", "# a comment", "   # indented", "\t#tab", "#ssh-ed25519 AAAA", "# x\r"}) {
    auto r = ParseAuthorizedKeysLine(line);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->kind, LineKind::kComment) << line;
  }
}

TEST(AuthorizedKeysLine, BareKeyWithComment) {
  AuthorizedKey k = Key(S(kEd, " alice@example.com"));
  EXPECT_EQ(key::Fingerprint(k.key), kEdFp);
  EXPECT_EQ(k.comment, "alice@example.com");
  EXPECT_EQ(k.options, Options{});
}

TEST(AuthorizedKeysLine, BareKeyWithoutComment) {
  AuthorizedKey k = Key(std::string(kEd));
  EXPECT_EQ(k.comment, "");
  EXPECT_EQ(k.options, Options{});
}

TEST(AuthorizedKeysLine, CommentKeepsInnerBlanksAndIsTakenAsWritten) {
  EXPECT_EQ(Key(S(kEd, "   two  words\there ")).comment, "two  words\there ");
  EXPECT_EQ(Key(S(kEd, " #not special")).comment, "#not special");
  EXPECT_EQ(Key(S(kEd, " J\xc3\xbcrgen")).comment, "J\xc3\xbcrgen");
}

TEST(AuthorizedKeysLine, LeadingBlanksBeforeTheKey) {
  EXPECT_EQ(key::Fingerprint(Key(S("  \t ", kEd, " c")).key), kEdFp);
  EXPECT_EQ(Key(S("\t", "restrict ", kEd)).options.restricted, true);
}

TEST(AuthorizedKeysLine, CrlfLineEndingIsNotPartOfTheLine) {
  AuthorizedKey with_comment = Key(S(kEd, " comment\r"));
  EXPECT_EQ(with_comment.comment, "comment");
  AuthorizedKey bare = Key(S(kEd, "\r"));
  EXPECT_EQ(bare.comment, "");
  EXPECT_EQ(key::Fingerprint(bare.key), kEdFp);
  AuthorizedKey options = Key(S("no-pty ", kEd, "\r"));
  EXPECT_FALSE(options.options.permit_pty);
}

TEST(AuthorizedKeysLine, OptionsBeforeTheKey) {
  AuthorizedKey k = Key(S("restrict,pty,command=\"/usr/bin/backup --now\" ", kEd, " robot"));
  EXPECT_TRUE(k.options.restricted);
  EXPECT_TRUE(k.options.permit_pty);
  EXPECT_FALSE(k.options.permit_port_forwarding);
  ASSERT_TRUE(k.options.force_command.has_value());
  EXPECT_EQ(*k.options.force_command, "/usr/bin/backup --now");
  EXPECT_EQ(k.comment, "robot");
  EXPECT_EQ(key::Fingerprint(k.key), kEdFp);
}

TEST(AuthorizedKeysLine, QuotedBlanksAndEscapedQuotesStayInsideTheOptions) {
  AuthorizedKey k = Key(S("command=\"a \\\"b\\\" c\",environment=\"A=b c\" ", kEd, " c"));
  ASSERT_TRUE(k.options.force_command.has_value());
  EXPECT_EQ(*k.options.force_command, "a \"b\" c");
  EXPECT_EQ(k.options.environment, std::vector<std::string>{"A=b c"});
  AuthorizedKey tabs = Key(S("from=\"10.0.0.0/8,!10.1.0.0/16\"\t", kEd, "\tc"));
  ASSERT_TRUE(tabs.options.required_from_host_keys.has_value());
  EXPECT_EQ(*tabs.options.required_from_host_keys, "10.0.0.0/8,!10.1.0.0/16");
  EXPECT_EQ(tabs.comment, "c");
}

TEST(AuthorizedKeysLine, SeveralBlanksBetweenOptionsAndKeyAreAccepted) {
  // sshd skips any run of blanks after the options (skip_space()); note that
  // ssh-keygen -l does not, but sshd is what matters here.
  for (std::string_view gap : {" ", "  ", "\t", " \t \t", "        "}) {
    AuthorizedKey k = Key(S("no-pty", gap, S(kEd, " c")));
    EXPECT_FALSE(k.options.permit_pty);
    EXPECT_EQ(k.comment, "c");
  }
  AuthorizedKey blanks_in_key = Key(S("ssh-ed25519 \t  ", kEdB64, " c"));
  EXPECT_EQ(key::Fingerprint(blanks_in_key.key), kEdFp);
}

TEST(AuthorizedKeysLine, CertAuthorityWithPrincipals) {
  AuthorizedKey k = Key(S("cert-authority,principals=\"alice,bob\" ", kEd, " CA"));
  EXPECT_TRUE(k.options.cert_authority);
  ASSERT_TRUE(k.options.cert_principals.has_value());
  EXPECT_EQ(*k.options.cert_principals, "alice,bob");
}

TEST(AuthorizedKeysLine, SignatureNameAsKeyTypeIsReadAsOpenSsh92Does) {
  AuthorizedKey k = Key(S("rsa-sha2-512 ", kRsaB64, " c"));
  EXPECT_EQ(k.key.type_name(), "ssh-rsa");
  AuthorizedKey with_options = Key(S("restrict rsa-sha2-256 ", kRsaB64));
  EXPECT_TRUE(with_options.options.restricted);
}

struct Reject {
  std::string_view name;
  std::string line;
  std::string_view code;  // empty: any code
};

std::vector<Reject> Rejects() {
  return {
      {"truncated_base64", S("ssh-ed25519 ", kEdB64.substr(0, kEdB64.size() - 2)), "bad_base64"},
      {"type_mismatch", S("ssh-ed25519 ", kRsaB64, " c"), "type_mismatch"},
      {"type_mismatch_after_options", S("restrict ssh-ed25519 ", kRsaB64, " c"), "type_mismatch"},
      {"unknown_key_type", S("ssh-ed448 ", kEdB64), "unknown_key_type"},
      {"unknown_key_type_after_options", S("restrict ssh-ed448 ", kEdB64), "unknown_key_type"},
      {"option_then_base64_without_type", S("restrict ", kEdB64), "unknown_key_type"},
      {"unbalanced_quotes", S("command=\"ls ", kEd), "unbalanced_quotes"},
      {"unbalanced_quotes_escaped_last", S("command=\"ls\\\" ", kEd), "unbalanced_quotes"},
      {"options_without_key", "no-pty,restrict", "no_key"},
      {"options_then_blanks_only", "no-pty   ", "no_key"},
      {"unknown_option", S("env=\"A=b\" ", kEd), "unknown_option"},
      {"blank_after_comma_splits_options", S("env=\"HOME=/root dir\", no-port-forwarding ", kEd), ""},
      {"type_only", "ssh-ed25519", "no_key"},
      {"nul_in_comment", S(kEd, std::string_view(" a\0b", 4)), "nul_byte"},
      {"nul_first", S(std::string_view("\0", 1), kEd), "nul_byte"},
      {"line_too_long", S(kEd, " ", std::string(kMaxLineBytes, 'c')), "line_too_long"},
      {"ssh1_key", "2048 35 1234567890 user@host", ""},
  };
}

TEST(AuthorizedKeysLine, MustRejectList) {
  for (const Reject& c : Rejects()) {
    auto r = ParseAuthorizedKeysLine(c.line);
    ASSERT_FALSE(r.has_value()) << c.name << " was accepted";
    if (!c.code.empty()) {
      EXPECT_EQ(r.error().code, c.code) << c.name << ": " << r.error().message;
    }
    EXPECT_GE(r.error().message.size(), 20u) << c.name;
  }
}

TEST(AuthorizedKeysLine, LongestLineIsAccepted) {
  std::string line = S(kEd, " ");
  line += std::string(kMaxLineBytes - line.size(), 'c');
  ASSERT_EQ(line.size(), kMaxLineBytes);
  EXPECT_TRUE(ParseAuthorizedKeysLine(line).has_value());
  line.push_back('c');
  EXPECT_FALSE(ParseAuthorizedKeysLine(line).has_value());
}

TEST(CleanComment, ControlCharactersBecomeSpacesAndEndsAreTrimmed) {
  EXPECT_EQ(CleanComment(""), "");
  EXPECT_EQ(CleanComment("alice@example.com"), "alice@example.com");
  EXPECT_EQ(CleanComment("  padded\t"), "padded");
  EXPECT_EQ(CleanComment("a\rb\nc"), "a b c");
  EXPECT_EQ(CleanComment(std::string_view("a\0b", 3)), "a b");
  EXPECT_EQ(CleanComment("esc\x1b[31m"), "esc [31m");
  EXPECT_EQ(CleanComment("del\x7f"), "del");
  EXPECT_EQ(CleanComment("J\xc3\xbcrgen \xf0\x9f\x94\x91"), "J\xc3\xbcrgen \xf0\x9f\x94\x91");
  EXPECT_EQ(CleanComment("\r\n"), "");
}

TEST(FormatAuthorizedKey, WritesCanonicalLines) {
  EXPECT_EQ(FormatAuthorizedKey(Key(S(kEd, "   alice  "))), S(kEd, " alice"));
  EXPECT_EQ(FormatAuthorizedKey(Key(std::string(kEd))), std::string(kEd));
  EXPECT_EQ(FormatAuthorizedKey(Key(S("rsa-sha2-256 ", kRsaB64))), S("ssh-rsa ", kRsaB64));
  std::string with_options = FormatAuthorizedKey(Key(S("no-pty   ", kEd, " c")));
  EXPECT_NE(with_options.find("no-pty"), std::string::npos) << with_options;
  EXPECT_NE(with_options.find(S(" ", kEd, " c")), std::string::npos) << with_options;
}

TEST(FormatAuthorizedKey, NeverWritesLineBreaksOrNuls) {
  AuthorizedKey k = Key(std::string(kEd));
  k.comment = std::string("evil\ncommand=\"x\" ssh-ed25519 AAAA\r\0end", 38);
  std::string line = FormatAuthorizedKey(k);
  EXPECT_EQ(line.find_first_of(std::string_view("\n\r\0", 3)), std::string::npos);
  auto back = ParseAuthorizedKeysLine(line);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->entry->options, Options{});
}

TEST(FormatAuthorizedKey, ReadsBackToTheSameKeyOptionsAndCleanedComment) {
  const std::string lines[] = {
      S(kEd, " plain"),
      S("restrict,pty ", kEd, " restricted"),
      S("command=\"a \\\"b\\\" c\",from=\"10.0.0.0/8\",environment=\"A=b c\" ", kEd),
      S("cert-authority,principals=\"a,b\",expiry-time=\"20990101\" ", kEd, " ca"),
      S("permitopen=\"host:22\",permitlisten=\"8080\",tunnel=\"1\",no-touch-required ", kEd, " x\ty"),
      S("rsa-sha2-512 ", kRsaB64, " alias\r"),
  };
  for (const auto& original : lines) {
    AuthorizedKey a = Key(original);
    std::string written = FormatAuthorizedKey(a);
    AuthorizedKey b = Key(written);
    EXPECT_TRUE(Equal(a.key.blob(), b.key.blob())) << original;
    EXPECT_EQ(a.options, b.options) << original << "\n -> " << written;
    EXPECT_EQ(b.comment, CleanComment(a.comment)) << original;
    EXPECT_EQ(FormatAuthorizedKey(b), written) << "not a fixed point: " << written;
  }
}

}  // namespace
}  // namespace keyward::authkeys
