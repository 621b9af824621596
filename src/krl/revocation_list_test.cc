// The revocation list: records round-trip, a torn last line is left out
// (never a later record), anything else malformed stops the build.
#include "krl/revocation_list.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fs/safe_file.h"
#include "krl/check.h"
#include "krl/krl_test_keys.h"

namespace keyward::krl {
namespace {

using testing::MakeCert;
using testing::RandomKey;
using testing::TestSigner;

Revocation Serials(const key::PublicKey& ca, std::uint64_t first, std::uint64_t last) {
  Revocation r;
  r.kind = Revocation::Kind::kSerials;
  r.time = 1763712000;
  r.who = "root";
  r.ca = ca.ToText();
  r.first = first;
  r.last = last;
  return r;
}

TEST(RevocationList, RecordsRoundTrip) {
  TestSigner ca;
  Revocation s = Serials(ca.PublicKey(), 5, 9);
  Revocation id;
  id.kind = Revocation::Kind::kKeyId;
  id.time = 1;
  id.who = "alice (sudo by bob)";
  id.ca = ca.PublicKey().ToText();
  id.key_id = "laptop \"quoted\" \xc3\xa9";
  Revocation k;
  k.kind = Revocation::Kind::kKey;
  k.who = "root";
  k.key = RandomKey().ToText();
  for (const auto& r : {s, id, k}) {
    std::string line = FormatRevocation(r);
    ASSERT_EQ(line.back(), '\n');
    ASSERT_EQ(line.find('\n'), line.size() - 1);
    auto back = ParseRevocation(line.substr(0, line.size() - 1));
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->kind, r.kind);
    EXPECT_EQ(back->time, r.time);
    EXPECT_EQ(back->who, r.who);
    EXPECT_EQ(back->ca, r.ca);
    EXPECT_EQ(back->first, r.first);
    EXPECT_EQ(back->last, r.last);
    EXPECT_EQ(back->key_id, r.key_id);
    EXPECT_EQ(back->key, r.key);
  }
}

TEST(RevocationList, MustRejectList) {
  TestSigner ca;
  const std::string c = ca.PublicKey().ToText();
  const std::string k = RandomKey().ToText();
  const std::string lines[] = {
      "",
      "not json",
      "[1,2]",
      "{\"time\":1,\"who\":\"x\"}",
      "{\"time\":1,\"who\":\"x\",\"ca\":\"" + c + "\",\"serials\":[0,4]}",
      "{\"time\":1,\"who\":\"x\",\"ca\":\"" + c + "\",\"serials\":[9,4]}",
      "{\"time\":1,\"who\":\"x\",\"ca\":\"" + c + "\",\"serials\":[-1,4]}",
      "{\"time\":1,\"who\":\"x\",\"ca\":\"" + c + "\",\"serials\":[1]}",
      "{\"time\":1,\"who\":\"x\",\"serials\":[1,2]}",
      "{\"time\":1,\"who\":\"x\",\"ca\":\"nope\",\"key_id\":\"a\"}",
      "{\"time\":1,\"who\":\"x\",\"ca\":\"" + c + " trailing\",\"key_id\":\"a\"}",
      "{\"time\":1,\"who\":\"x\",\"ca\":\"" + c + "\",\"key\":\"" + k + "\"}",
      "{\"time\":1,\"who\":\"x\",\"key\":\"" + k + "\",\"key_id\":\"a\",\"ca\":\"" + c + "\"}",
      "{\"time\":\"now\",\"who\":\"x\",\"key\":\"" + k + "\"}",
      "{\"time\":1,\"who\":\"x\",\"key\":\"" + k + "\",\"extra\":1}",
      "{\"time\":1,\"who\":\"x\",\"key\":\"ssh-ed25519 AAAA\"}",
  };
  for (const auto& line : lines) EXPECT_FALSE(ParseRevocation(line).has_value()) << line;
}

TEST(RevocationList, ATornLastLineIsLeftOutWithAWarning) {
  TestSigner ca;
  std::string good = FormatRevocation(Serials(ca.PublicKey(), 1, 1));
  auto list = ParseRevocationList(good + good.substr(0, 20));
  ASSERT_TRUE(list.has_value()) << list.error().message;
  EXPECT_EQ(list->records.size(), 1u);
  EXPECT_EQ(list->warnings.size(), 1u);
  // A broken complete line is an error: a revocation must not vanish.
  auto broken = ParseRevocationList(good + "{broken\n" + good);
  ASSERT_FALSE(broken.has_value());
  EXPECT_NE(broken.error().message.find("line 2"), std::string::npos);
}

TEST(RevocationList, AppendClosesATornLineSoTheNewRecordSurvives) {
  char dir_template[] = "/tmp/keyward-rl-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  auto fd = fs::OpenDirectory(dir, fs::Ownership{geteuid()}, "test");
  ASSERT_TRUE(fd.has_value());
  TestSigner ca;
  auto ca_key = ca.PublicKey();

  auto empty = ReadRevocationList(fd->get());
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->records.empty());

  ASSERT_TRUE(AppendRevocations(fd->get(), {Serials(ca_key, 1, 1)}));
  struct stat st {};
  ASSERT_EQ(stat((dir + "/revocations").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {
    // A crash in the middle of a write.
    std::ofstream torn(dir + "/revocations", std::ios::app);
    torn << "{\"time\":1,\"who\":\"ro";
  }
  ASSERT_TRUE(AppendRevocations(fd->get(), {Serials(ca_key, 7, 9), Serials(ca_key, 20, 20)}));
  auto list = ReadRevocationList(fd->get());
  ASSERT_TRUE(list.has_value()) << list.error().message;
  ASSERT_EQ(list->records.size(), 3u);
  EXPECT_EQ(list->records[1].first, 7u);
  EXPECT_EQ(list->warnings.size(), 1u);

  KrlBuilder b;
  for (const auto& r : list->records) ASSERT_TRUE(ApplyRevocation(r, b));
  Krl krl = std::move(b).Finish();
  EXPECT_EQ(krl.certificates[0].serials, (std::vector<SerialRange>{{1, 1}, {7, 9}, {20, 20}}));
  std::filesystem::remove_all(dir);
}

TEST(RevocationList, ApplyingAKeyRecordRevokesLikeAKeyLine) {
  TestSigner ca;
  auto plain = RandomKey();
  auto cert = MakeCert(ca, RandomKey(), 31, "c31");
  KrlBuilder b;
  for (const auto* k : {&plain, &cert}) {
    Revocation r;
    r.kind = Revocation::Kind::kKey;
    r.key = k->ToText();
    ASSERT_TRUE(ApplyRevocation(r, b));
  }
  Krl krl = std::move(b).Finish();
  EXPECT_TRUE(IsRevoked(krl, plain));
  EXPECT_TRUE(IsRevoked(krl, cert));
  EXPECT_FALSE(IsRevoked(krl, MakeCert(ca, RandomKey(), 32, "c32")));
}

}  // namespace
}  // namespace keyward::krl
