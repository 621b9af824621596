// Issuing: a batch gets consecutive serials and default key ids, is
// recorded before it is returned, and a bad request spends no serial and
// records nothing.
#include "ca/issuer.h"

#include <gtest/gtest.h>

#include "ca/ca_test_util.h"
#include "ca/serial_counter.h"
#include "key/fingerprint.h"

namespace keyward::ca {
namespace {

using testing::MakeKey;
using testing::MakeSigner;
using testing::TempCaDir;

CertificateRequest Request(key::PublicKey subject) {
  CertificateRequest r;
  r.subject = std::move(subject);
  r.principals = {"alice"};
  r.valid_after = 1'800'000'000;
  r.valid_before = 1'800'086'400;
  r.extensions = {"permit-pty"};
  return r;
}

IssueContext Context() {
  IssueContext c;
  c.role = "login";
  c.account = "alice";
  c.requested_by = "keywardd";
  c.client = "192.0.2.7";
  c.now = 1'800'000'000;
  return c;
}

TEST(Issuer, BatchGetsConsecutiveSerialsAndIsRecorded) {
  TempCaDir dir;
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  std::vector<CertificateRequest> requests;
  std::vector<key::PublicKey> keys;
  for (int i = 0; i < 5; ++i) {
    keys.push_back(MakeKey(key::Algorithm::kEd25519));
    requests.push_back(Request(keys.back()));
  }
  requests[2].key_id = "given by hand";
  auto issued = IssueCertificates(dir.fd(), ca, requests, Context());
  ASSERT_TRUE(issued) << issued.error().message;
  ASSERT_EQ(issued->size(), 5u);
  auto log = ReadIssuanceLog(dir.fd());
  ASSERT_TRUE(log);
  ASSERT_EQ(log->records.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    auto cert = key::ParsePublicKeyBlob((*issued)[i].blob);
    ASSERT_TRUE(cert) << cert.error().message;
    const std::uint64_t serial = i + 1;
    EXPECT_EQ(cert->certificate()->serial, serial);
    EXPECT_EQ(cert->certificate()->key_id, i == 2 ? "given by hand" : "keyward:alice:login:" + std::to_string(serial));
    EXPECT_TRUE(cert->SamePublicKey(keys[i]));
    const IssuanceRecord& rec = log->records[i];
    EXPECT_EQ(rec.serial, serial);
    EXPECT_EQ(rec.key_id, cert->certificate()->key_id);
    EXPECT_EQ(rec.fingerprint, key::Fingerprint(keys[i]));
    EXPECT_EQ(rec.ca_fingerprint, key::Fingerprint(ca.public_key()));
    EXPECT_EQ(rec.role, "login");
    EXPECT_EQ(rec.account, "alice");
    EXPECT_EQ(rec.requested_by, "keywardd");
    EXPECT_EQ(rec.client, "192.0.2.7");
    EXPECT_EQ(rec.principals, std::vector<std::string>{"alice"});
    EXPECT_EQ(rec.key_type, "ED25519");
    EXPECT_EQ(rec.valid_before, 1'800'086'400u);
  }
  auto more = IssueCertificates(dir.fd(), ca, {Request(keys[0])}, Context());
  ASSERT_TRUE(more);
  EXPECT_EQ((*more)[0].record.serial, 6u);
}

TEST(Issuer, ABadRequestSpendsNothing) {
  TempCaDir dir;
  CaSigner ca = MakeSigner(key::Algorithm::kEd25519);
  std::vector<CertificateRequest> requests = {Request(MakeKey(key::Algorithm::kEd25519)),
                                              Request(MakeKey(key::Algorithm::kEd25519))};
  requests[1].principals = {"alice root"};
  auto issued = IssueCertificates(dir.fd(), ca, requests, Context());
  ASSERT_FALSE(issued);
  EXPECT_EQ(issued.error().code, "bad_principal");
  EXPECT_FALSE(dir.Exists(kIssuanceLogFile));
  EXPECT_EQ(*PeekNextSerial(dir.fd()), 1u);

  requests[1] = Request(MakeKey(key::Algorithm::kEd25519));
  requests[1].serial = 99;
  EXPECT_FALSE(IssueCertificates(dir.fd(), ca, requests, Context()));
  EXPECT_FALSE(dir.Exists(kIssuanceLogFile));
}

TEST(Issuer, DefaultKeyIds) {
  EXPECT_EQ(DefaultKeyId("alice", "login", 17), "keyward:alice:login:17");
  EXPECT_EQ(DefaultKeyId("", "", 3), "keyward:-:-:3");
}

}  // namespace
}  // namespace keyward::ca
