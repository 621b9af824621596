// The key policy: which keys keyward lets into an account.
#include "key/policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "wire/base64.h"
#include "wire/writer.h"

namespace keyward::key {
namespace {

constexpr std::string_view kEd25519 =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZ";
constexpr std::string_view kEcdsa =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAxZW5ZDq1vcnSlYbTPvQGN3PbGgRO0ht5Rcd/"
    "JwWr5AAw2iPY4d/5Lxvybfb6ZttqsKJJUwhg38wpF5CCmlpQc=";
constexpr std::string_view kEd25519Sk =
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAICFo/k5LU8863u66YC9eUO2170QduohPURkQnbLa/"
    "dczAAAABHNzaDo=";
constexpr std::string_view kDsa =
    "ssh-dss AAAAB3NzaC1kc3MAAACBAPqS600VGwdPAQC/p3f0uGyrLVql0cFn1zYd/JGvtabKnIYjLaYprje/NcjwI3CZFJiz4Dp3S8kLs+X5/1DMn/"
    "Tg1Y4D4yLB+6vCtHcJF7rVBFhvw/KZwc7G54ez3khyOtsg82fzpyOc8/mq+/+C5TMKO7DDjMF0k5emWKCsa3ZfAAAAFQCjA/+dKkMu4/"
    "CWjJPtfl7YNaStNQAAAIEA7uX1BVVtJKjLmWrpw62+l/xSXA5rr7MHBuWjiCYV3VHBfXJaQDyRDtGuEJKDwdzqYgacpGApGWL/"
    "cuBtJ9nShsUl6GRG0Ra03g+Hx9VR5LviJBsjAVB4qVgciU1NGga0Bt2Lecd1X4EGQRBzVXeuOpiqGM6jP/I2yDMs0Pboet0AAACBAOdXpyfmobEBaOqZ"
    "Auvgj1P0uhjG2P31Ufurv22FWPBU3A9qrkxbOXwE0LwvjCvrsQV/lrYhJz/tiys40VeahulWZE5SAHMXGIf95LiLSgaXMjko7joot+"
    "LK84ltLymwZ4QMnYjnZSSclf1UuyQMcUtb34+I0u9Ycnyhp2mSFsQt";
constexpr std::string_view kEd25519Cert =
    "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIIxzuxl4z3uwAIslne8Huft+"
    "1n1IhHAlNbWZkQyyECCGAAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZAAAAAAAAAAgAAAACAAAABmp1bGl1cwAAABIAAAAFaG9zdDEA"
    "AAAFaG9zdDIAAAAANowB8AAAAABNHmBwAAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBThupGO0X+"
    "FLQhbz8CoKPwc7V3JNsQuGtlsgN+F7SMGQAAAFMAAAALc3NoLWVkMjU1MTkAAABABGTn+Bmz86Ajk+iqKCSdP5NClsYzn4alJd0V5bizhP0Kumc/"
    "HbqQfSt684J1WdSzih+EjvnTgBhK9jTBKb90AQ==";

PublicKey Read(std::string_view line) {
  auto r = ReadKeyText(line);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  return std::move(r->key);
}

// An RSA key with the given exponent and a modulus of `bits` bits whose
// lowest byte is `low` (the parser does not judge either; the policy does).
PublicKey Rsa(unsigned bits, Bytes e = {1, 0, 1}, std::uint8_t low = 0x01) {
  Bytes n((bits + 7) / 8, 0xc5);
  unsigned top = bits % 8 == 0 ? 8 : bits % 8;
  n[0] = static_cast<std::uint8_t>((0xc5 | 0x80) >> (8 - top));
  n.back() = low;
  wire::Writer w;
  w.String(std::string_view("ssh-rsa"));
  w.MPInt(e);
  w.MPInt(n);
  auto k = ParsePublicKeyBlob(w.Take());
  EXPECT_TRUE(k.has_value()) << k.error().message;
  return std::move(*k);
}

std::vector<std::string> Codes(const std::vector<Error>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) {
    EXPECT_FALSE(p.message.empty()) << p.code;
    out.push_back(p.code);
  }
  return out;
}

using CodeList = std::vector<std::string>;

TEST(KeyPolicy, TagChangesWithEveryRule) {
  KeyPolicy base;
  const std::string tag = PolicyTag(base);
  EXPECT_EQ(tag, PolicyTag(KeyPolicy{})) << "the same policy, the same tag";
  EXPECT_EQ(tag.find(' '), std::string::npos) << "a word: it sits in the index header";
  KeyPolicy no_rsa = base;
  no_rsa.allowed.erase(Algorithm::kRsa);
  KeyPolicy bigger_rsa = base;
  bigger_rsa.min_rsa_bits = 3072;
  KeyPolicy no_certs = base;
  no_certs.allow_certificates = false;
  KeyPolicy with_dsa = base;
  with_dsa.allowed.insert(Algorithm::kDsa);
  std::set<std::string> tags = {tag, PolicyTag(no_rsa), PolicyTag(bigger_rsa), PolicyTag(no_certs),
                                PolicyTag(with_dsa)};
  EXPECT_EQ(tags.size(), 5u);
}

TEST(KeyPolicy, DefaultAcceptsModernKeys) {
  for (std::string_view line : {kEd25519, kEcdsa, kEd25519Sk, kEd25519Cert}) {
    EXPECT_EQ(Codes(CheckKeyPolicy(Read(line))), CodeList{}) << line.substr(0, 30);
  }
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(2048))), CodeList{});
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(4096))), CodeList{});
}

TEST(KeyPolicy, DefaultRefusesWeakKeys) {
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(1024))), CodeList{"weak_key"});
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(2047))), CodeList{"weak_key"});
  auto dsa = CheckKeyPolicy(Read(kDsa));
  ASSERT_EQ(Codes(dsa), CodeList{"weak_key"});
  EXPECT_NE(dsa[0].message.find("DSA"), std::string::npos);
  auto rsa = CheckKeyPolicy(Rsa(1024));
  EXPECT_NE(rsa[0].message.find("1024"), std::string::npos) << rsa[0].message;
  EXPECT_NE(rsa[0].message.find("2048"), std::string::npos) << rsa[0].message;
}

TEST(KeyPolicy, MinimumRsaSizeIsConfigurable) {
  KeyPolicy policy;
  policy.min_rsa_bits = 3072;
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(2048), policy)), CodeList{"weak_key"});
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(3072), policy)), CodeList{});
  policy.min_rsa_bits = 1024;
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(1024), policy)), CodeList{});
}

TEST(KeyPolicy, DsaIsAcceptedOnlyWhenAllowed) {
  KeyPolicy policy;
  policy.allowed.insert(Algorithm::kDsa);
  EXPECT_EQ(Codes(CheckKeyPolicy(Read(kDsa), policy)), CodeList{});
}

TEST(KeyPolicy, AlgorithmsNotAllowedAreRefused) {
  KeyPolicy policy;
  policy.allowed = {Algorithm::kEd25519};
  EXPECT_EQ(Codes(CheckKeyPolicy(Read(kEd25519), policy)), CodeList{});
  EXPECT_EQ(Codes(CheckKeyPolicy(Read(kEcdsa), policy)), CodeList{"type_refused"});
  EXPECT_EQ(Codes(CheckKeyPolicy(Read(kEd25519Sk), policy)), CodeList{"type_refused"});
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(4096), policy)), CodeList{"type_refused"});
  // A weak RSA key is refused for both reasons.
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(1024), policy)), (CodeList{"type_refused", "weak_key"}));
}

TEST(KeyPolicy, CertificatesCanBeRefused) {
  KeyPolicy policy;
  policy.allow_certificates = false;
  EXPECT_EQ(Codes(CheckKeyPolicy(Read(kEd25519Cert), policy)), CodeList{"certificate_refused"});
  EXPECT_EQ(Codes(CheckKeyPolicy(Read(kEd25519), policy)), CodeList{});
}

TEST(KeyPolicy, StructurallyInsecureRsaIsAlwaysRefused) {
  KeyPolicy lenient;
  lenient.min_rsa_bits = 0;
  struct Case {
    const char* name;
    Bytes e;
    std::uint8_t low;
  };
  const Case cases[] = {
      {"exponent_1", {1}, 0x01},
      {"exponent_0", {}, 0x01},
      {"exponent_even", {1, 0, 0}, 0x01},
      {"exponent_2", {2}, 0x01},
      {"modulus_even", {1, 0, 1}, 0x02},
  };
  for (const auto& c : cases) {
    auto codes = Codes(CheckKeyPolicy(Rsa(2048, c.e, c.low), lenient));
    EXPECT_EQ(codes, CodeList{"insecure_key"}) << c.name;
  }
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(2048, {3}), lenient)), CodeList{});
  EXPECT_EQ(Codes(CheckKeyPolicy(Rsa(2048, {1, 0, 0, 0, 1}), lenient)), CodeList{});
}

TEST(ParseAlgorithmList, AcceptsEveryName) {
  auto all = ParseAlgorithmList("ed25519,ecdsa,rsa,dsa,sk-ed25519,sk-ecdsa,mldsa44-ed25519");
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_EQ(all->size(), 7u);
  auto one = ParseAlgorithmList("rsa");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, std::set<Algorithm>{Algorithm::kRsa});
  auto repeated = ParseAlgorithmList("ed25519,ed25519");
  ASSERT_TRUE(repeated.has_value());
  EXPECT_EQ(repeated->size(), 1u);
}

TEST(ParseAlgorithmList, MustRejectList) {
  for (std::string_view list : {"", ",", "ed25519,", ",ed25519", "ed25519,,rsa", "ed25519 ,rsa", " ed25519",
                                "ED25519", "ssh-ed25519", "rsa-sha2-256", "dss", "ecdsa-p256", "ed25519;rsa"}) {
    auto r = ParseAlgorithmList(list);
    ASSERT_FALSE(r.has_value()) << "\"" << list << "\" accepted";
    EXPECT_EQ(r.error().code, "bad_policy");
  }
}

}  // namespace
}  // namespace keyward::key
