// keys.index: building it, finding one fingerprint among many by binary
// search, and refusing an index that is corrupt or torn.
#include "store/keys_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace keyward::store {
namespace {

// Fingerprints look like "SHA256:" + 43 base64 characters; any distinct
// strings without a tab or newline will do for the index.
std::string MakeFingerprint(std::mt19937_64& rng) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string fp = "SHA256:";
  for (int i = 0; i < 43; ++i) fp.push_back(kB64[rng() % 64]);
  return fp;
}

IndexRecord MakeRecord(const std::string& fp, std::size_t i, std::mt19937_64& rng) {
  IndexRecord r;
  r.fingerprint = fp;
  r.expiry = i % 3 == 0 ? 0 : 1800000000 + i;
  r.inode = 1000 + i;
  // Lines of very different lengths, so that byte-offset probes land
  // anywhere inside them.
  r.size = 80 + rng() % 4000;
  r.mtime_ns = 1700000000123456789 + static_cast<std::int64_t>(i);
  r.file = "user" + std::to_string(i) + "@example.com+laptop+20261121+01.pub";
  r.line = "ssh-ed25519 AAAA" + std::string(rng() % 300, 'x') + " user" + std::to_string(i) + "@example.com";
  return r;
}

void ExpectSame(const IndexRecord& a, const IndexRecord& b) {
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_EQ(a.expiry, b.expiry);
  EXPECT_EQ(a.inode, b.inode);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.mtime_ns, b.mtime_ns);
  EXPECT_EQ(a.file, b.file);
  EXPECT_EQ(a.line, b.line);
}

TEST(KeysIndex, FindsEveryRecordAmongMany) {
  std::mt19937_64 rng(42);
  std::vector<IndexRecord> records;
  std::set<std::string> fps;
  while (records.size() < 5000) {
    std::string fp = MakeFingerprint(rng);
    if (!fps.insert(fp).second) continue;
    records.push_back(MakeRecord(fp, records.size(), rng));
  }
  std::string bytes = BuildIndex(1234567890123, std::string(64, 'a'), std::string(64, 'b'), records);
  auto view = IndexView::Open(bytes);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->header().count, records.size());
  EXPECT_EQ(view->header().cert_authorities, 0u);
  EXPECT_EQ(view->header().users_mtime_ns, 1234567890123);
  EXPECT_EQ(view->header().rendered_sha256, std::string(64, 'a'));
  EXPECT_EQ(view->header().previous_sha256, std::string(64, 'b'));
  EXPECT_TRUE(view->CertAuthorities().empty());
  for (const IndexRecord& r : records) {
    auto hit = view->Find(r.fingerprint);
    ASSERT_TRUE(hit) << "missed " << r.fingerprint;
    ExpectSame(*hit, r);
  }
  // The first and last records in sorted order.
  EXPECT_TRUE(view->Find(*fps.begin()));
  EXPECT_TRUE(view->Find(*fps.rbegin()));
  // Fingerprints that are not there: before the first, after the last,
  // between two, a prefix of one, one with a byte more, empty.
  std::vector<std::string> missing = {"", "SHA256:", "A", "SHA255:zzzz", "SHA256:" + std::string(43, '/'),
                                      "SHA256:" + std::string(44, 'z'), "zzzz", *fps.begin() + "A",
                                      fps.begin()->substr(0, 20)};
  for (int i = 0; i < 2000; ++i) {
    std::string fp = MakeFingerprint(rng);
    if (fps.count(fp) == 0) missing.push_back(fp);
  }
  for (const std::string& fp : missing) {
    if (fps.count(fp) != 0) continue;
    EXPECT_FALSE(view->Find(fp)) << "found " << fp << " which is not in the index";
  }
}

TEST(KeysIndex, EverySizeFromZeroToSixty) {
  // Small indexes exercise the edges of the search: one record, two, odd
  // and even counts, the probe landing on the first or last line.
  std::mt19937_64 rng(7);
  for (std::size_t n = 0; n <= 60; ++n) {
    std::vector<IndexRecord> records;
    std::set<std::string> fps;
    while (records.size() < n) {
      std::string fp = MakeFingerprint(rng);
      if (!fps.insert(fp).second) continue;
      records.push_back(MakeRecord(fp, records.size(), rng));
    }
    std::string bytes = BuildIndex(1, "", "", records);
    auto view = IndexView::Open(bytes);
    ASSERT_TRUE(view) << n << ": " << view.error().message;
    for (const IndexRecord& r : records) {
      auto hit = view->Find(r.fingerprint);
      ASSERT_TRUE(hit) << "n=" << n << " missed " << r.fingerprint;
      ExpectSame(*hit, r);
    }
    for (int i = 0; i < 50; ++i) {
      std::string fp = MakeFingerprint(rng);
      if (fps.count(fp) == 0) { EXPECT_FALSE(view->Find(fp)) << "n=" << n; }
    }
    EXPECT_FALSE(view->Find("")) << "n=" << n;
  }
}

TEST(KeysIndex, CertAuthoritiesComeFirstAndAreNotSearched) {
  std::mt19937_64 rng(3);
  std::vector<IndexRecord> records;
  for (std::size_t i = 0; i < 10; ++i) {
    records.push_back(MakeRecord(MakeFingerprint(rng), i, rng));
    records.back().cert_authority = i % 4 == 1;  // 1, 5, 9
  }
  std::string bytes = BuildIndex(5, "abc", "", records);
  auto view = IndexView::Open(bytes);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->header().previous_sha256, "") << "no previous file is written as - and read back as empty";
  EXPECT_EQ(view->header().cert_authorities, 3u);
  auto cas = view->CertAuthorities();
  ASSERT_EQ(cas.size(), 3u);
  std::set<std::string> want = {records[1].fingerprint, records[5].fingerprint, records[9].fingerprint};
  for (const auto& ca : cas) {
    EXPECT_TRUE(ca.cert_authority);
    EXPECT_EQ(want.count(ca.fingerprint), 1u);
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].cert_authority) continue;
    auto hit = view->Find(records[i].fingerprint);
    ASSERT_TRUE(hit) << i;
    ExpectSame(*hit, records[i]);
  }
}

TEST(KeysIndex, LinesKeepTheirTabsAndTheRecordParses) {
  IndexRecord r;
  r.fingerprint = "SHA256:abc";
  r.file = "a@b.co+d+20261121+01.pub";
  r.line = "restrict,command=\"a\tb\" ssh-ed25519 AAAA c";
  std::string bytes = BuildIndex(1, "x", "y", {r});
  auto view = IndexView::Open(bytes);
  ASSERT_TRUE(view);
  auto hit = view->Find("SHA256:abc");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->line, r.line);
}

TEST(KeysIndex, RefusesACorruptOrTruncatedIndex) {
  std::mt19937_64 rng(11);
  std::vector<IndexRecord> records;
  for (std::size_t i = 0; i < 20; ++i) records.push_back(MakeRecord(MakeFingerprint(rng), i, rng));
  records[3].cert_authority = true;
  const std::string good = BuildIndex(99, std::string(64, 'f'), std::string(64, 'e'), records);
  ASSERT_TRUE(IndexView::Open(good));

  // Every truncation (a torn write) is refused: the trailer goes first.
  for (std::size_t len = 0; len < good.size(); ++len) {
    auto view = IndexView::Open(std::string_view(good).substr(0, len));
    ASSERT_FALSE(view) << "accepted an index cut at byte " << len << " of " << good.size();
    EXPECT_EQ(view.error().code, "bad_index");
  }
  auto replace_first = [&](std::string s, const std::string& from, const std::string& to) {
    std::size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  std::size_t header_end = good.find('\n');
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "empty"},
      {"garbage\n", "no header"},
      {replace_first(good, "keyward-index 3 ", "keyward-index 2 "), "another version"},
      {replace_first(good, "keyward-index 3 ", "keyward-index 4 "), "another version"},
      {replace_first(good, "keyward-index 3 99 ", "keyward-index 3 x9 "), "bad mtime"},
      {replace_first(good, std::string(64, 'e') + " ", ""), "no previous hash"},
      {replace_first(good, " 20 1 -\n", " 2x 1 -\n"), "bad count"},
      {replace_first(good, " 20 1 -\n", " 20 21 -\n"), "more cert authorities than records"},
      {replace_first(good, " 20 1 -\n", " 20 1 - 7\n"), "a field too many"},
      {replace_first(good, " 20 1 -\n", " 20 1\n"), "a field too few"},
      {replace_first(good, " 20 1 -\n", " 20 1 \n"), "an empty policy tag"},
      {replace_first(good, "end 20 ", "end 19 "), "the trailer disagrees with the header"},
      {good.substr(0, good.size() - 65) + std::string(64, 'g') + "\n", "a trailer hash that is not hex"},
      {good.substr(0, good.size() - 2) + "\n", "a short trailer hash"},
      {good + "x", "bytes after the trailer"},
      {good.substr(0, header_end + 1) + "end 20 " + std::string(64, '0') + "\n",
       "no records though the header says 20 (1 cert authority)"},
  };
  for (const auto& [bytes, why] : bad) {
    auto view = IndexView::Open(bytes);
    EXPECT_FALSE(view) << "accepted: " << why;
    if (!view) { EXPECT_EQ(view.error().code, "bad_index") << why; }
  }
}

TEST(KeysIndex, TheTrailerHashTellsAMixOfTwoVersions) {
  std::mt19937_64 rng(12);
  std::vector<IndexRecord> records;
  for (std::size_t i = 0; i < 50; ++i) records.push_back(MakeRecord(MakeFingerprint(rng), i, rng));
  const std::string old_version = BuildIndex(7, "a", "b", records);
  auto intact = IndexView::Open(old_version);
  ASSERT_TRUE(intact);
  EXPECT_TRUE(intact->Intact());
  // The same number of records, one line changed in place at the same
  // length: the structure still reads, the hash does not match.
  std::string mixed = old_version;
  std::size_t at = mixed.find(records[20].line);
  ASSERT_NE(at, std::string::npos);
  mixed[at + records[20].line.size() - 1] ^= 1;
  auto view = IndexView::Open(mixed);
  ASSERT_TRUE(view) << "structurally whole";
  EXPECT_FALSE(view->Intact());
}

TEST(KeysIndex, PolicyTagRoundTrips) {
  IndexRecord r;
  r.fingerprint = "SHA256:a";
  r.file = "f";
  r.line = "l";
  auto plain = IndexView::Open(BuildIndex(1, "x", "y", {r}));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->header().policy, "-");
  std::string bytes = BuildIndex(1, "x", "y", {r}, "p1:a1.2:r2048:c1");
  auto tagged = IndexView::Open(bytes);
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->header().policy, "p1:a1.2:r2048:c1");
  EXPECT_EQ(tagged->header().count, 1u);
}

TEST(KeysIndex, RecordParser) {
  auto ok = ParseIndexRecord("SHA256:x\t0\t1\t2\t3\tf.pub\tline with\ttab");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->fingerprint, "SHA256:x");
  EXPECT_EQ(ok->expiry, 0u);
  EXPECT_EQ(ok->inode, 1u);
  EXPECT_EQ(ok->size, 2u);
  EXPECT_EQ(ok->mtime_ns, 3);
  EXPECT_EQ(ok->file, "f.pub");
  EXPECT_EQ(ok->line, "line with\ttab");
  for (std::string bad : {"", "SHA256:x", "SHA256:x\t0\t1\t2\t3\tf.pub", "SHA256:x\tz\t1\t2\t3\tf\tl",
                          "SHA256:x\t-1\t1\t2\t3\tf\tl", "SHA256:x\t0\t1\t\t3\tf\tl", "SHA256:x\t0\t1\t2\t3x\tf\tl",
                          "SHA256:x\t99999999999999999999999\t1\t2\t3\tf\tl"}) {
    EXPECT_FALSE(ParseIndexRecord(bad)) << "accepted record \"" << bad << "\"";
  }
}

TEST(KeysIndex, CorruptRecordIsAMissNotACrash) {
  // A record whose numbers were damaged: the lookup misses (and the caller
  // falls back to reading users/) instead of returning half a record.
  IndexRecord r;
  r.fingerprint = "SHA256:b";
  r.file = "f";
  r.line = "l";
  std::string bytes = BuildIndex(1, "x", "y", {r});
  std::size_t at = bytes.find("SHA256:b\t0\t");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at + 9, 1, "q");
  auto view = IndexView::Open(bytes);
  ASSERT_TRUE(view);
  EXPECT_FALSE(view->Find("SHA256:b"));
}

}  // namespace
}  // namespace keyward::store
