// The request parser: what it accepts, and a must-reject table.
#include "daemon/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keyward::daemon {
namespace {

TEST(ParseRequest, EveryOpWithItsFields) {
  auto login = ParseRequest(R"({"op": "login", "user": "alice", "client": "203.0.113.9"})");
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->op, Op::kLogin);
  EXPECT_EQ(login->user, "alice");
  EXPECT_EQ(login->client, "203.0.113.9");

  auto verify = ParseRequest(R"({"op":"verify","login":"ab","code":"123456"})");
  ASSERT_TRUE(verify) << verify.error().message;
  EXPECT_EQ(verify->op, Op::kVerify);
  EXPECT_EQ(verify->login, "ab");
  EXPECT_EQ(verify->code, "123456");

  auto add = ParseRequest(
      R"({"op":"add_key","session":"s","key":"ssh-ed25519 AAAA x\r\n","owner":"a@b.c","device":"laptop","days":30})");
  ASSERT_TRUE(add) << add.error().message;
  EXPECT_EQ(add->op, Op::kAddKey);
  EXPECT_EQ(add->key, "ssh-ed25519 AAAA x\r\n");
  EXPECT_EQ(add->days, 30);

  auto add_no_days = ParseRequest(R"({"op":"add_key","session":"s","key":"k","owner":"o","device":"d"})");
  ASSERT_TRUE(add_no_days);
  EXPECT_EQ(add_no_days->days, 0);

  for (std::string line : {R"({"op":"list_keys","session":"s"})", R"({"op":"logout","session":"s"})",
                           R"({"op":"revoke_key","session":"s","file":"f.pub","client":"x"})",
                           "  {\"op\":\"logout\",\"session\":\"s\"}  \r"}) {
    EXPECT_TRUE(ParseRequest(line)) << line;
  }
  EXPECT_STREQ(OpName(Op::kAddKey), "add_key");

  auto roles = ParseRequest(R"({"op":"list_roles","session":"s","client":"203.0.113.9"})");
  ASSERT_TRUE(roles) << roles.error().message;
  EXPECT_EQ(roles->op, Op::kListRoles);
  EXPECT_STREQ(OpName(Op::kListRoles), "list_roles");

  auto sign = ParseRequest(
      R"({"op":"sign_cert","session":"s","role":"login","key":"ssh-ed25519 AAAA x\n","validity":"+1d","client":"c"})");
  ASSERT_TRUE(sign) << sign.error().message;
  EXPECT_EQ(sign->op, Op::kSignCert);
  EXPECT_EQ(sign->role, "login");
  EXPECT_EQ(sign->key, "ssh-ed25519 AAAA x\n");
  EXPECT_EQ(sign->validity, "+1d");
  EXPECT_STREQ(OpName(Op::kSignCert), "sign_cert");
  auto sign_default = ParseRequest(R"({"op":"sign_cert","session":"s","role":"login","key":"k"})");
  ASSERT_TRUE(sign_default);
  EXPECT_EQ(sign_default->validity, "");
}

TEST(ParseRequest, MustReject) {
  const std::string big_key(kMaxKeyField + 1, 'A');
  const std::vector<std::string> bad = {
      // Not one JSON object.
      "",
      " ",
      "login alice",
      "[]",
      R"(["login"])",
      "\"login\"",
      "42",
      "null",
      "{",
      R"({"op":"login","user":"alice"} {"op":"login","user":"bob"})",
      R"({"op":"login","user":"alice"},)",
      std::string(R"({"op":"login","user":"al)") + '\0' + R"(ice"})",
      "{\"op\":\"login\",\"user\":\"al\xff\xfeice\"}",  // invalid UTF-8
      // Oversized.
      std::string(kMaxRequestBytes + 1, ' '),
      R"({"op":"login","user":")" + std::string(kMaxRequestBytes, 'a') + "\"}",
      // No op, or an unknown one.
      R"({})",
      R"({"user":"alice"})",
      R"({"op":"sign_cert","session":"s"})",
      R"({"op":"LOGIN","user":"alice"})",
      R"({"op":"","user":"alice"})",
      R"({"op":1})",
      R"({"op":null})",
      R"({"op":["login"],"user":"alice"})",
      // Unknown, missing, repeated or nested fields.
      R"({"op":"login"})",
      R"({"op":"login","user":"alice","admin":true})",
      R"({"op":"login","user":"alice","session":"s"})",
      R"({"op":"login","user":"alice","user":"root"})",
      R"({"op":"login","op":"logout","user":"alice"})",
      R"({"op":"verify","login":"x"})",
      R"({"op":"verify","code":"123456"})",
      R"({"op":"list_keys"})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o"})",
      R"({"op":"revoke_key","session":"s"})",
      R"({"op":"revoke_key","session":"s","file":"f","days":1})",
      R"({"op":"login","user":{"name":"alice"}})",
      R"({"op":"login","user":"alice","client":["a","b"]})",
      R"({"op":"login","user":"alice","x":{"y":{"z":[]}}})",
      // Wrong types.
      R"({"op":"login","user":7})",
      R"({"op":"login","user":null})",
      R"({"op":"login","user":true})",
      R"({"op":"verify","login":"x","code":123456})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o","device":"d","days":"30"})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o","device":"d","days":1.5})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o","device":"d","days":-1})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o","device":"d","days":36501})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o","device":"d","days":18446744073709551615})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o","device":"d","days":true})",
      // Overlong strings.
      R"({"op":"login","user":")" + std::string(kMaxUserField + 1, 'a') + "\"}",
      R"({"op":"login","user":"a","client":")" + std::string(kMaxClientField + 1, '1') + "\"}",
      R"({"op":"verify","login":")" + std::string(kMaxTokenField + 1, 'a') + R"(","code":"1"})",
      R"({"op":"verify","login":"a","code":")" + std::string(kMaxCodeField + 1, '1') + "\"}",
      R"({"op":"list_keys","session":")" + std::string(kMaxTokenField + 1, 'a') + "\"}",
      R"({"op":"add_key","session":"s","key":")" + big_key + R"(","owner":"o","device":"d"})",
      R"({"op":"add_key","session":"s","key":"k","owner":")" + std::string(kMaxOwnerField + 1, 'o') +
          R"(","device":"d"})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o","device":")" + std::string(kMaxDeviceField + 1, 'd') +
          "\"}",
      R"({"op":"revoke_key","session":"s","file":")" + std::string(kMaxFileField + 1, 'f') + "\"}",
      // Control characters (escaped in JSON, so the JSON itself is valid).
      R"({"op":"login","user":"alice\n"})",
      R"({"op":"login","user":"ali\u0000ce"})",
      R"({"op":"login","user":"alice","client":"1.2.3.4\r\nX: y"})",
      R"({"op":"add_key","session":"s","key":"ssh-ed25519 A\u0000","owner":"o","device":"d"})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o","device":"lap\u001btop"})",
      R"({"op":"revoke_key","session":"s","file":"a\u007f.pub"})",
      // sign_cert and list_roles: their fields and only theirs.
      R"({"op":"sign_cert","session":"s","role":"login"})",
      R"({"op":"sign_cert","session":"s","key":"k"})",
      R"({"op":"sign_cert","role":"login","key":"k"})",
      R"({"op":"sign_cert","session":"s","role":"login","key":"k","user":"bob"})",
      R"({"op":"sign_cert","session":"s","role":"login","key":"k","principals":"root"})",
      R"({"op":"sign_cert","session":"s","role":"login","key":"k","days":1})",
      R"({"op":"sign_cert","session":"s","role":["login"],"key":"k"})",
      R"({"op":"sign_cert","session":"s","role":"login","key":"k","validity":86400})",
      R"({"op":"sign_cert","session":"s","role":")" + std::string(kMaxRoleField + 1, 'r') + R"(","key":"k"})",
      R"({"op":"sign_cert","session":"s","role":"login","key":"k","validity":")" +
          std::string(kMaxValidityField + 1, '1') + "\"}",
      R"({"op":"sign_cert","session":"s","role":"log\nin","key":"k"})",
      R"({"op":"sign_cert","session":"s","role":"login","key":"k","validity":"+1d\n"})",
      R"({"op":"sign_cert","session":"s","role":"login","key":")" + big_key + "\"}",
      R"({"op":"list_roles"})",
      R"({"op":"list_roles","session":"s","role":"login"})",
      R"({"op":"add_key","session":"s","key":"k","owner":"o","device":"d","role":"login"})",
  };
  for (const std::string& line : bad) {
    auto r = ParseRequest(line);
    EXPECT_FALSE(r) << "accepted: " << line.substr(0, 200);
    if (!r) {
      EXPECT_EQ(r.error().code, "bad_request");
    }
  }
}

TEST(ParseRequest, ErrorsNeverRepeatValues) {
  auto r = ParseRequest(R"({"op":"verify","login":"x","code":"123456789012345678901234567890123"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("1234567890"), std::string::npos) << r.error().message;
}

TEST(FormatReply, OneLineWithOk) {
  std::string ok = FormatOk({{"file", "a\nb"}});
  EXPECT_EQ(ok.back(), '\n');
  EXPECT_EQ(ok.find('\n'), ok.size() - 1);
  auto j = nlohmann::json::parse(ok);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["file"], "a\nb");
  std::string err = FormatError({"bad_code", "wrong \xff"});  // invalid UTF-8 is replaced, not thrown
  auto e = nlohmann::json::parse(err);
  EXPECT_EQ(e["ok"], false);
  EXPECT_EQ(e["error"]["code"], "bad_code");
}

}  // namespace
}  // namespace keyward::daemon
