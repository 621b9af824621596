// KRLs as OpenSSH 9.2 reads and writes them:
//
//   stripe-krl/: every KRL's header and sections as the manifest lists them
//   (walked independently of keyward's reader), every revocation verdict
//   ssh-keygen -Q gave, every invalid/ file refused with 9.2p1's reason;
//   the .spec files rebuilt by keyward byte for byte as ssh-keygen wrote
//   them (header fields aside), and every KRL re-encoded as it was written.
//
//   openssh/krl-regress/: the KRLs of regress/krl.sh (keys, certificates,
//   the CA, hashes, serial and key ID specs, the wildcard CA, an update with
//   a second CA) made with keyward's spec reader and encoder, read back, and
//   checked against the expected table of krl_sh_facts.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "key/fingerprint.h"
#include "key/public_key.h"
#include "krl/check.h"
#include "krl/encode.h"
#include "krl/krl_test_keys.h"
#include "krl/openssh_reason.h"
#include "krl/parse.h"
#include "krl/spec.h"
#include "wire/base64.h"
#include "wire/reader.h"

namespace keyward::krl {
namespace {

using nlohmann::json;

const std::string kStripe = std::string(KEYWARD_CONFORMANCE_DIR) + "/stripe-krl/";
const std::string kRegress = std::string(KEYWARD_CONFORMANCE_DIR) + "/openssh/krl-regress/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json Manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return json::object();
  }
  return json::parse(in, nullptr, false);
}

key::PublicKey KeyFile(const std::string& path) {
  std::string text = ReadFile(path);
  auto k = key::ReadKeyText(text.substr(0, text.find('\n')));
  if (!k) ADD_FAILURE() << path << ": " << k.error().message;
  return k ? k->key : testing::RandomKey();
}

std::string Hex(ByteView b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto c : b) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Fp(ByteView blob) { return key::Sha256FingerprintOfBlob(blob); }

// ------------------------------------------------------------ stripe/krl

// The manifest's view of a KRL, read with a plain wire reader: section and
// subsection types in file order, with what each holds.
json WalkKrl(ByteView data) {
  json sections = json::array();
  wire::Reader r(data.subspan(8));
  r.U32();
  r.U64();
  r.U64();
  r.U64();
  r.String();
  r.String();
  while (!r.empty()) {
    std::uint8_t type = *r.U8();
    ByteView body = *r.String();
    json s = {{"type_code", type}};
    if (type == kSectionCertificates) {
      wire::Reader b(body);
      ByteView ca = *b.String();
      b.String();
      s["ca_key_sha256"] = Fp(ca);
      json subs = json::array();
      while (!b.empty()) {
        std::uint8_t st = *b.U8();
        wire::Reader sub(*b.String());
        json j = {{"type_code", st}};
        if (st == kSubsectionSerialList) {
          json serials = json::array();
          while (!sub.empty()) serials.push_back(*sub.U64());
          j["serials"] = serials;
        } else if (st == kSubsectionSerialRange) {
          j["min"] = *sub.U64();
          j["max"] = *sub.U64();
        } else if (st == kSubsectionSerialBitmap) {
          std::uint64_t offset = *sub.U64();
          ByteView bits = *sub.MPInt();
          json revoked = json::array();
          for (std::size_t i = 0; i < bits.size() * 8; ++i) {
            if ((bits[bits.size() - 1 - i / 8] >> (i % 8)) & 1) revoked.push_back(offset + i);
          }
          j["offset"] = offset;
          j["revoked_serials"] = revoked;
        } else if (st == kSubsectionKeyId) {
          json ids = json::array();
          while (!sub.empty()) ids.push_back(std::string(*sub.CString()));
          j["key_ids"] = ids;
        }
        subs.push_back(j);
      }
      s["subsections"] = subs;
    } else if (type == kSectionExplicitKey || type == kSectionFingerprintSha1 || type == kSectionFingerprintSha256) {
      wire::Reader b(body);
      json list = json::array();
      while (!b.empty()) {
        ByteView item = *b.String();
        list.push_back(type == kSectionExplicitKey ? Fp(item) : Hex(item));
      }
      s[type == kSectionExplicitKey ? "key_sha256_fingerprints" : "hashes_hex"] = list;
    } else if (type == kSectionSignature) {
      s["signing_key_sha256"] = Fp(body);
      wire::Reader sig(*r.String());
      s["signature_algorithm"] = std::string(*sig.CString());
    }
    sections.push_back(s);
  }
  return sections;
}

// What the manifest's sections revoke, for comparison with keyward's model.
void ExpectModelMatchesSections(const Krl& krl, const json& sections) {
  std::set<std::pair<std::string, std::uint64_t>> want_serials;
  std::set<std::pair<std::string, std::string>> want_ids;
  std::set<std::string> want_keys, want_sha1, want_sha256, want_signers;
  for (const auto& s : sections) {
    int type = s["type_code"].get<int>();
    if (type == kSectionCertificates) {
      std::string ca = s["ca_key_sha256"];
      for (const auto& sub : s["subsections"]) {
        if (sub.contains("serials")) {
          for (const auto& v : sub["serials"]) want_serials.insert({ca, v.get<std::uint64_t>()});
        }
        if (sub.contains("min")) {
          for (std::uint64_t v = sub["min"]; v <= sub["max"].get<std::uint64_t>(); ++v) want_serials.insert({ca, v});
        }
        if (sub.contains("revoked_serials")) {
          for (const auto& v : sub["revoked_serials"]) want_serials.insert({ca, v.get<std::uint64_t>()});
        }
        if (sub.contains("key_ids")) {
          for (const auto& v : sub["key_ids"]) want_ids.insert({ca, v.get<std::string>()});
        }
      }
    } else if (type == kSectionExplicitKey) {
      for (const auto& v : s["key_sha256_fingerprints"]) want_keys.insert(v.get<std::string>());
    } else if (type == kSectionFingerprintSha1) {
      for (const auto& v : s["hashes_hex"]) want_sha1.insert(v.get<std::string>());
    } else if (type == kSectionFingerprintSha256) {
      for (const auto& v : s["hashes_hex"]) want_sha256.insert(v.get<std::string>());
    } else if (type == kSectionSignature) {
      want_signers.insert(s["signing_key_sha256"].get<std::string>());
    }
  }
  std::set<std::pair<std::string, std::uint64_t>> serials;
  std::set<std::pair<std::string, std::string>> ids;
  std::set<std::string> keys, sha1, sha256, signers;
  for (const auto& section : krl.certificates) {
    std::string ca = Fp(section.ca_key);
    for (const auto& r : section.serials) {
      for (std::uint64_t v = r.first; v <= r.last; ++v) serials.insert({ca, v});
    }
    for (const auto& id : section.key_ids) ids.insert({ca, id});
  }
  for (const auto& k : krl.explicit_keys) keys.insert(Fp(k));
  for (const auto& d : krl.sha1s) sha1.insert(Hex(d));
  for (const auto& d : krl.sha256s) sha256.insert(Hex(d));
  for (const auto& k : krl.signing_keys) signers.insert(Fp(k));
  EXPECT_EQ(serials, want_serials);
  EXPECT_EQ(ids, want_ids);
  EXPECT_EQ(keys, want_keys);
  EXPECT_EQ(sha1, want_sha1);
  EXPECT_EQ(sha256, want_sha256);
  EXPECT_EQ(signers, want_signers);
}

TEST(StripeKrl, EveryKrlReadsAsTheManifestSays) {
  json m = Manifest(kStripe + "expected.json");
  ASSERT_TRUE(m.contains("krls"));
  int krls = 0, verdicts = 0;
  for (const auto& entry : m["krls"]) {
    const std::string file = entry["file"];
    SCOPED_TRACE(file);
    std::string data = ReadFile(kStripe + file);
    ASSERT_EQ(data.size(), entry["size"].get<std::size_t>());

    // The manifest's sections, walked independently.
    json walked = WalkKrl(AsBytes(data));
    ASSERT_EQ(walked.size(), entry["sections"].size());
    for (std::size_t i = 0; i < walked.size(); ++i) {
      json want = entry["sections"][i];
      want.erase("type");
      for (auto& sub : want["subsections"]) sub.erase("type");
      if (want["subsections"].is_null()) want.erase("subsections");
      EXPECT_EQ(walked[i], want) << "section " << i;
    }

    auto krl = ParseKrl(AsBytes(data));
    ASSERT_TRUE(krl.has_value()) << krl.error().message;
    const json& h = entry["header"];
    EXPECT_EQ(krl->version, h["krl_version"].get<std::uint64_t>());
    EXPECT_EQ(krl->generated_date, h["generated_date"].get<std::uint64_t>());
    EXPECT_EQ(krl->flags, h["flags"].get<std::uint64_t>());
    EXPECT_EQ(krl->comment, h["comment"].get<std::string>());
    ExpectModelMatchesSections(*krl, entry["sections"]);

    for (auto it = entry["revocation"].begin(); it != entry["revocation"].end(); ++it) {
      SCOPED_TRACE(it.key());
      EXPECT_EQ(IsRevoked(*krl, KeyFile(kStripe + it.key())), it.value() == "revoked");
      ++verdicts;
    }

    // keyward writes the same bytes back (a signed KRL without its
    // signatures: keyward never signs).
    auto again = EncodeKrl(*krl);
    ASSERT_TRUE(again.has_value());
    if (krl->signing_keys.empty()) {
      EXPECT_EQ(AsText(*again), data);
    } else {
      EXPECT_EQ(AsText(*again), data.substr(0, again->size()));
    }
    ++krls;
  }
  EXPECT_EQ(krls, 5);
  EXPECT_EQ(verdicts, 40);
}

TEST(StripeKrl, SpecFilesRebuildTheSameBytesAsSshKeygen) {
  json m = Manifest(kStripe + "expected.json");
  auto ca = KeyFile(kStripe + "cakey.pub");
  int rebuilt = 0;
  for (const auto& entry : m["krls"]) {
    if (!entry.contains("spec_file")) continue;
    const std::string file = entry["file"];
    SCOPED_TRACE(file);
    const std::string how = entry["ssh_keygen_reproduction"];
    SpecOptions o;
    if (how.find("-s cakey.pub") != std::string::npos) o.ca = &ca;
    KrlBuilder b;
    ASSERT_TRUE(ApplySpec(ReadFile(kStripe + entry["spec_file"].get<std::string>()), "spec", o, b));
    Krl krl = std::move(b).Finish();
    krl.version = entry["header"]["krl_version"];
    krl.generated_date = entry["header"]["generated_date"];
    auto bytes = EncodeKrl(krl);
    ASSERT_TRUE(bytes.has_value());
    EXPECT_EQ(AsText(*bytes), ReadFile(kStripe + file));
    ++rebuilt;
  }
  EXPECT_EQ(rebuilt, 4);
}

TEST(StripeKrl, InvalidFilesAreRefusedWithOpenSsh92sReason) {
  json m = Manifest(kStripe + "expected.json");
  ASSERT_TRUE(m.contains("invalid"));
  int refused = 0;
  for (const auto& entry : m["invalid"]) {
    const std::string file = entry["file"];
    SCOPED_TRACE(file);
    const json& v = entry["openssh_9_2p1_ssh_keygen_Q"];
    ASSERT_EQ(v["result"], "reject");
    std::string message = v["message"];
    std::string log;
    if (auto slash = message.find(" / "); slash != std::string::npos) {
      log = message.substr(0, slash);
      message = message.substr(slash + 3);
    }
    OpenSshRefusal refusal;
    auto r = ParseKrl(AsBytes(ReadFile(kStripe + file)), &refusal);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(refusal.reason, message);
    if (!log.empty()) {
      EXPECT_EQ(refusal.log, std::vector<std::string>{log});
    }
    ++refused;
  }
  EXPECT_EQ(refused, 11);
}

// Every key and certificate of OpenSSH's sshkey test data that 9.2 knows
// passes the walk that finds OpenSSH's words for a refused CA key: the walk
// never refuses what OpenSSH reads.
TEST(OpenSshReason, EveryTestKeyOpenSsh92KnowsIsFine) {
  const std::string dir = std::string(KEYWARD_CONFORMANCE_DIR) + "/openssh/sshkey/";
  json m = Manifest(dir + "expected.json");
  int keys = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".pub") continue;
    std::string text = ReadFile(entry.path().string());
    auto k = key::ReadKeyText(text.substr(0, text.find('\n')));
    if (!k) continue;  // the manifest's own tests say which files are refused
    SCOPED_TRACE(name);
    if (KnownToOpenSsh92(k->key)) {
      EXPECT_FALSE(KeyBlobReason(k->key.blob()).has_value());
      ++keys;
    } else {
      EXPECT_EQ(KeyBlobReason(k->key.blob()).value_or(""), std::string("unknown or unsupported key type"));
    }
  }
  EXPECT_GT(keys, 20);
}

// ------------------------------------------------- openssh regress/krl.sh

class KrlRegress : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kRevoked[] = {1, 4, 10, 50, 90, 500, 510, 520, 550, 799, 999};
  static constexpr std::uint64_t kUnrevoked[] = {5, 9, 14, 16, 29, 49, 51, 499, 800, 1010, 1011};

  void SetUp() override {
    facts_ = Manifest(kRegress + "krl_sh_facts.json");
    ASSERT_TRUE(facts_.contains("expected_revoked"));
    // The manifest's serial lists are the ones used here.
    std::vector<std::uint64_t> revoked(std::begin(kRevoked), std::end(kRevoked));
    std::vector<std::uint64_t> unrevoked(std::begin(kUnrevoked), std::end(kUnrevoked));
    ASSERT_EQ(facts_["setup"]["revoked_N"].get<std::vector<std::uint64_t>>(), revoked);
    ASSERT_EQ(facts_["setup"]["unrevoked_N"].get<std::vector<std::uint64_t>>(), unrevoked);
    for (auto n : kRevoked) {
      revoked_keys_.push_back(testing::RandomKey());
      revoked_certs_.push_back(testing::MakeCert(ca_, revoked_keys_.back(), n, "revoked " + std::to_string(n)));
    }
    for (auto n : kUnrevoked) {
      unrevoked_keys_.push_back(testing::RandomKey());
      unrevoked_certs_.push_back(testing::MakeCert(ca_, unrevoked_keys_.back(), n, "revoked " + std::to_string(n)));
    }
  }

  // ssh-keygen -k [-s CA|none] FILE...: each file a spec or key lines.
  Krl Generate(const std::vector<std::string>& files, const key::PublicKey* ca, bool any_ca = false,
               const Krl* update = nullptr) {
    KrlBuilder b;
    if (update != nullptr) {
      EXPECT_TRUE(b.Merge(*update));
    }
    SpecOptions o;
    o.ca = ca;
    o.any_ca = any_ca;
    for (const auto& f : files) {
      auto ok = ApplySpec(f, "spec", o, b);
      EXPECT_TRUE(ok.has_value()) << ok.error().message;
    }
    Krl krl = std::move(b).Finish();
    // Through the bytes, as sshd would read it.
    auto bytes = EncodeKrl(krl);
    EXPECT_TRUE(bytes.has_value());
    auto back = ParseKrl(*bytes);
    EXPECT_TRUE(back.has_value());
    return back ? *back : Krl{};
  }

  static std::string Lines(const std::vector<key::PublicKey>& keys, const std::string& prefix = "") {
    std::string out;
    for (const auto& k : keys) out += prefix + k.ToText() + "\n";
    return out;
  }

  json facts_;
  testing::TestSigner ca_, ca2_;
  std::vector<key::PublicKey> revoked_keys_, revoked_certs_, unrevoked_keys_, unrevoked_certs_;
};

TEST_F(KrlRegress, EveryKrlRevokesWhatTheExpectedTableSays) {
  auto ca = ca_.PublicKey(), ca2 = ca2_.PublicKey();
  const std::string serials = ReadFile(kRegress + "revoked-serials.spec");
  const std::string keyids = ReadFile(kRegress + "revoked-keyid.spec");
  std::string hashes;
  for (const auto& k : revoked_keys_) hashes += "hash: " + key::Fingerprint(k) + "\n";

  Krl serial_once = Generate({serials}, &ca);
  std::map<std::string, Krl> krls = {
      {"krl-empty", Generate({}, nullptr)},
      {"krl-keys", Generate({Lines(revoked_keys_)}, nullptr)},
      {"krl-cert", Generate({Lines(revoked_certs_)}, nullptr)},
      {"krl-all", Generate({Lines(revoked_keys_), Lines(revoked_certs_)}, nullptr)},
      {"krl-ca", Generate({ca.ToText() + "\n"}, nullptr)},
      {"krl-sha1", Generate({Lines(revoked_keys_, "sha1: ")}, nullptr)},
      {"krl-sha256", Generate({Lines(revoked_keys_, "sha256: ")}, nullptr)},
      {"krl-hash", Generate({hashes}, nullptr)},
      {"krl-serial", Generate({serials}, &ca2, false, &serial_once)},  // -u with a second CA
      {"krl-keyid", Generate({keyids}, &ca)},
      {"krl-serial-wild", Generate({serials}, nullptr, true)},
      {"krl-keyid-wild", Generate({keyids}, nullptr, true)},
  };
  ASSERT_EQ(krls["krl-serial"].certificates.size(), 2u);

  const json& table = facts_["expected_revoked"];
  const std::map<std::string, const std::vector<key::PublicKey>*> subjects = {
      {"revoked plain keys", &revoked_keys_},
      {"unrevoked plain keys", &unrevoked_keys_},
      {"revoked certs", &revoked_certs_},
      {"unrevoked certs", &unrevoked_certs_},
  };
  int checked = 0;
  for (const auto& [subject, keys] : subjects) {
    ASSERT_TRUE(table.contains(subject)) << subject;
    for (auto it = table[subject].begin(); it != table[subject].end(); ++it) {
      std::stringstream names(it.key());
      std::string name;
      while (std::getline(names, name, '|')) {
        ASSERT_TRUE(krls.count(name)) << name;
        for (std::size_t i = 0; i < keys->size(); ++i) {
          EXPECT_EQ(IsRevoked(krls[name], (*keys)[i]), it.value().get<bool>()) << subject << " #" << i << " in " << name;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 11 * 11);
  for (const auto& k : revoked_keys_) EXPECT_FALSE(IsRevoked(krls["krl-empty"], k));
}

TEST_F(KrlRegress, SerialAndKeyIdSpecsWithoutACaAreRefused) {
  for (const char* file : {"revoked-serials.spec", "revoked-keyid.spec"}) {
    KrlBuilder b;
    auto ok = ApplySpec(ReadFile(kRegress + file), file, SpecOptions{}, b);
    ASSERT_FALSE(ok.has_value()) << file;
    EXPECT_NE(ok.error().message.find("requires specification of a CA key"), std::string::npos);
  }
}

TEST_F(KrlRegress, UpdatingAnEmptyKrlGivesTheSameResults) {
  auto ca = ca_.PublicKey();
  const std::string serials = ReadFile(kRegress + "revoked-serials.spec");
  Krl empty = Generate({}, nullptr);
  Krl direct = Generate({serials}, &ca);
  Krl updated = Generate({serials}, &ca, false, &empty);
  EXPECT_TRUE(SameRevocations(direct, updated));
  for (std::size_t i = 0; i < revoked_certs_.size(); ++i) {
    EXPECT_TRUE(IsRevoked(updated, revoked_certs_[i]));
    EXPECT_FALSE(IsRevoked(updated, unrevoked_certs_[i]));
  }
}

}  // namespace
}  // namespace keyward::krl
