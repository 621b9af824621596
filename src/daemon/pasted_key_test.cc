// What sign_cert accepts as the key to certify, and the must-reject list.
#include "daemon/pasted_key.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace keyward::daemon {
namespace {

constexpr const char* kKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPBQiEDhnaZ0/YvfV9RTndPIjtvoZOIuqpTEqJpi98Ev";

TEST(ParsePastedKey, OneKeyLineAsPastedOrUploaded) {
  for (const std::string& text :
       {std::string(kKey), std::string(kKey) + " alice@laptop", std::string(kKey) + " alice@laptop\n",
        std::string(kKey) + " alice@laptop\r\n", "\n# my laptop\n\n  " + std::string(kKey) + " alice@laptop\n\n",
        std::string("\t") + kKey + "\talice@laptop"}) {
    auto k = ParsePastedKey(text, key::KeyPolicy{});
    ASSERT_TRUE(k) << text << ": " << k.error().message;
    EXPECT_EQ(k->key.ToText(), kKey);
    EXPECT_FALSE(k->key.is_certificate());
  }
  auto k = ParsePastedKey(std::string(kKey) + " alice@laptop\n", key::KeyPolicy{});
  ASSERT_TRUE(k);
  EXPECT_EQ(k->comment, "alice@laptop");
}

TEST(ParsePastedKey, MustReject) {
  // A certificate (OpenSSH's test data, as src/key/policy_test.cc has it).
  const std::string cert =
      "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIIxzuxl4z3uwAIslne8Huft+"
      "1n1IhHAlNbWZkQyyECCGAAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZAAAAAAAAAAgAAAACAAAABmp1bGl1cwAAABIAAAAFaG9zdDEA"
      "AAAFaG9zdDIAAAAANowB8AAAAABNHmBwAAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBThupGO0X+"
      "FLQhbz8CoKPwc7V3JNsQuGtlsgN+F7SMGQAAAFMAAAALc3NoLWVkMjU1MTkAAABABGTn+Bmz86Ajk+iqKCSdP5NClsYzn4alJd0V5bizhP0Kumc/"
      "HbqQfSt684J1WdSzih+EjvnTgBhK9jTBKb90AQ==";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "private_key"},
      {"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "private_key"},
      {"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "private_key"},
      {std::string(kKey) + "\n-----BEGIN OPENSSH PRIVATE KEY-----\n", "private_key"},
      {"", "no_key"},
      {"\n\n# only a comment\n", "no_key"},
      {std::string(kKey) + "\n" + kKey, "several_keys"},
      {std::string(kKey) + " a\rb", "invalid_key"},
      {std::string("command=\"/bin/sh\" ") + kKey, "options_in_key"},
      {std::string("restrict ") + kKey, "options_in_key"},
      {cert, "certificate"},
      {"ssh-ed25519 AAAA!!!!", "bad_base64"},
      {"ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIPBQiEDhnaZ0/YvfV9RTndPIjtvoZOIuqpTEqJpi98Ev", ""},
      {"not a key at all", ""},
  };
  for (const auto& [text, code] : bad) {
    auto k = ParsePastedKey(text, key::KeyPolicy{});
    ASSERT_FALSE(k) << text;
    if (!code.empty()) {
      EXPECT_EQ(k.error().code, code) << text << ": " << k.error().message;
    }
    EXPECT_FALSE(k.error().message.empty());
  }
  auto priv = ParsePastedKey("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n", key::KeyPolicy{});
  ASSERT_FALSE(priv);
  EXPECT_NE(priv.error().message.find("private key"), std::string::npos);
  EXPECT_NE(priv.error().message.find(".pub"), std::string::npos);
}

TEST(ParsePastedKey, ThePolicyDecides) {
  key::KeyPolicy no_ed25519;
  no_ed25519.allowed = {key::Algorithm::kRsa};
  auto k = ParsePastedKey(kKey, no_ed25519);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code, "type_refused") << k.error().message;
}

}  // namespace
}  // namespace keyward::daemon
