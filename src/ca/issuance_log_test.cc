// The issuance log: records round-trip, a batch is appended in order, and a
// torn line (a crash mid-append) is counted, not fatal.
#include "ca/issuance_log.h"

#include <gtest/gtest.h>

#include "ca/ca_test_util.h"

namespace keyward::ca {
namespace {

using testing::TempCaDir;

IssuanceRecord Sample(std::uint64_t serial) {
  IssuanceRecord r;
  r.time = 1'800'000'000;
  r.serial = serial;
  r.key_id = "keyward:alice:login:" + std::to_string(serial);
  r.type = key::CertType::kUser;
  r.role = "login";
  r.account = "alice";
  r.principals = {"alice", "root"};
  r.valid_after = 1'799'999'700;
  r.valid_before = ~std::uint64_t{0};
  r.fingerprint = "SHA256:abc";
  r.key_type = "ED25519";
  r.ca_fingerprint = "SHA256:def";
  r.requested_by = "root (sudo from bob)";
  r.client = "192.0.2.7";
  return r;
}

TEST(IssuanceLog, RecordsRoundTrip) {
  IssuanceRecord r = Sample(17);
  std::string line = FormatIssuanceRecord(r);
  EXPECT_TRUE(line.starts_with("{\"time\":\"2027-01-15T08:00:00Z\",\"serial\":17,\"key_id\":")) << line;
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto back = ParseIssuanceRecord(line);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(FormatIssuanceRecord(*back), line);
  EXPECT_EQ(back->valid_before, ~std::uint64_t{0});
  EXPECT_EQ(back->principals, r.principals);

  // Text from outside cannot break the line.
  r.key_id = "a\"b\nc";
  std::string quoted = FormatIssuanceRecord(r);
  EXPECT_EQ(quoted.find('\n'), quoted.size() - 1);
  EXPECT_EQ(ParseIssuanceRecord(quoted)->key_id, "a\"b\nc");
}

TEST(IssuanceLog, AppendsBatchesAndSkipsTornLines) {
  TempCaDir dir;
  auto empty = ReadIssuanceLog(dir.fd());
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->records.empty());
  ASSERT_TRUE(AppendIssuanceRecords(dir.fd(), {Sample(1), Sample(2)}));
  ASSERT_TRUE(AppendIssuanceRecords(dir.fd(), {Sample(3)}));
  // A crash mid-append leaves a partial line.
  std::string text = dir.Read(kIssuanceLogFile) + "{\"time\":\"2027-01-";
  dir.Write(kIssuanceLogFile, text);
  auto log = ReadIssuanceLog(dir.fd());
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_EQ(log->records.size(), 3u);
  EXPECT_EQ(log->records[0].serial, 1u);
  EXPECT_EQ(log->records[2].serial, 3u);
  EXPECT_EQ(log->bad_lines, 1u);
}

TEST(IssuanceLog, MustReject) {
  std::string good = FormatIssuanceRecord(Sample(1));
  for (std::string bad : {std::string("{}"), std::string("[]"), std::string("not json"),
                          std::string("{\"serial\":1}")}) {
    EXPECT_FALSE(ParseIssuanceRecord(bad)) << bad;
  }
  std::string wrong_type = good;
  wrong_type.replace(wrong_type.find("\"user\""), 6, "\"both\"");
  EXPECT_FALSE(ParseIssuanceRecord(wrong_type));
  std::string negative = good;
  negative.replace(negative.find("\"serial\":1"), 10, "\"serial\":-1");
  EXPECT_FALSE(ParseIssuanceRecord(negative));
}

}  // namespace
}  // namespace keyward::ca
