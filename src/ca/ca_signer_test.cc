// The CA signer: each key type signs with the algorithm OpenSSH expects,
// and one signer signs many messages (its reused context must not carry
// state from one signature to the next).
#include "ca/ca_signer.h"

#include <gtest/gtest.h>

#include <string>

#include "ca/ca_test_util.h"
#include "key/crypto.h"
#include "wire/reader.h"

namespace keyward::ca {
namespace {

using testing::MakeSigner;

TEST(CaSigner, SignsRepeatedlyWithTheRightAlgorithm) {
  struct Case {
    key::Algorithm algorithm;
    unsigned bits;
    std::string_view key_type, signature;
  };
  for (const Case& c : {Case{key::Algorithm::kEd25519, 0, "ssh-ed25519", "ssh-ed25519"},
                        Case{key::Algorithm::kEcdsa, 256, "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"},
                        Case{key::Algorithm::kEcdsa, 384, "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"},
                        Case{key::Algorithm::kEcdsa, 521, "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521"},
                        Case{key::Algorithm::kRsa, 2048, "ssh-rsa", "rsa-sha2-512"}}) {
    CaSigner signer = MakeSigner(c.algorithm, c.bits);
    EXPECT_EQ(signer.public_key().type_name(), c.key_type);
    EXPECT_EQ(signer.signature_algorithm(), c.signature);
    for (int i = 0; i < 4; ++i) {
      std::string message = "message number " + std::to_string(i);
      auto sig = signer.Sign(AsBytes(message));
      ASSERT_TRUE(sig) << sig.error().message;
      wire::Reader r(*sig);
      auto name = r.CString();
      ASSERT_TRUE(name);
      EXPECT_EQ(*name, c.signature);
      EXPECT_TRUE(key::VerifySignature(signer.public_key(), *sig, AsBytes(message))) << c.signature << " #" << i;
      EXPECT_FALSE(key::VerifySignature(signer.public_key(), *sig, AsBytes(message + "!")));
    }
  }
}

TEST(CaSigner, AppendsInPlace) {
  CaSigner signer = MakeSigner(key::Algorithm::kEcdsa, 256);
  Bytes buffer(100, 7);
  buffer.shrink_to_fit();
  const std::size_t signed_length = buffer.size();
  ASSERT_TRUE(signer.AppendSignature(ByteView(buffer.data(), signed_length), buffer));
  wire::Reader r(ByteView(buffer).subspan(signed_length));
  auto blob = r.String();
  ASSERT_TRUE(blob);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(key::VerifySignature(signer.public_key(), *blob, Bytes(100, 7)));
}

TEST(CaSigner, KeySpecs) {
  EXPECT_TRUE(ParseCaKeySpec("ed25519", 0));
  EXPECT_FALSE(ParseCaKeySpec("ed25519", 384));
  EXPECT_EQ(ParseCaKeySpec("ecdsa", 0)->bits, 256u);
  EXPECT_EQ(ParseCaKeySpec("ecdsa", 521)->bits, 521u);
  EXPECT_FALSE(ParseCaKeySpec("ecdsa", 512));
  EXPECT_EQ(ParseCaKeySpec("rsa", 0)->bits, kDefaultRsaBits);
  EXPECT_FALSE(ParseCaKeySpec("rsa", 1024));
  EXPECT_FALSE(ParseCaKeySpec("rsa", 32768));
  EXPECT_FALSE(ParseCaKeySpec("dsa", 0));
  EXPECT_FALSE(ParseCaKeySpec("", 0));
}

}  // namespace
}  // namespace keyward::ca
