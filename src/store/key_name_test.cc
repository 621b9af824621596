// Key file names (<owner email>+<device>+<YYYYMMDD>+<NN>.pub) and the
// selectors that name keys on the command line.
#include "store/key_name.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/store.h"

namespace keyward::store {
namespace {

TEST(KeyName, FileNameAndPrefix) {
  KeyName k{"alice@example.com", "laptop", "20261121", 1};
  EXPECT_EQ(k.FileName(), "alice@example.com+laptop+20261121+01.pub");
  EXPECT_EQ(k.Prefix(), "alice@example.com+laptop+20261121+");
  k.serial = 42;
  EXPECT_EQ(k.FileName(), "alice@example.com+laptop+20261121+42.pub");
  k.serial = 99;
  EXPECT_EQ(k.FileName(), "alice@example.com+laptop+20261121+99.pub");
}

TEST(KeyName, ParsesValidNames) {
  struct Case {
    std::string file, owner, device, date;
    int serial;
  };
  const std::vector<Case> cases = {
      {"alice@example.com+laptop+20261121+01.pub", "alice@example.com", "laptop", "20261121", 1},
      // '+' is allowed in the e-mail's local part; the name is split from the right.
      {"a.b-c_d+tag@sub.example.org+phone-2024+20240229+99.pub", "a.b-c_d+tag@sub.example.org", "phone-2024",
       "20240229", 99},
      {"Bob@Example.COM+X.1_y+19991231+10.pub", "Bob@Example.COM", "X.1_y", "19991231", 10},
      {"x@a-b.example.org+d+20000229+07.pub", "x@a-b.example.org", "d", "20000229", 7},
  };
  for (const Case& c : cases) {
    auto k = ParseKeyFileName(c.file);
    ASSERT_TRUE(k) << c.file << ": " << k.error().message;
    EXPECT_EQ(k->owner, c.owner) << c.file;
    EXPECT_EQ(k->device, c.device) << c.file;
    EXPECT_EQ(k->date, c.date) << c.file;
    EXPECT_EQ(k->serial, c.serial) << c.file;
    EXPECT_EQ(k->FileName(), c.file) << "a parsed name must format back to itself";
  }
}

TEST(KeyName, RefusesNamesThatBreakTheRule) {
  const std::vector<std::string> bad = {
      "",
      ".pub",
      "alice@example.com+laptop+20261121+01",          // no .pub
      "alice@example.com+laptop+20261121+01.pub~",     // editor backup
      "alice@example.com+laptop+20261121+01.PUB",
      "alice@example.com+laptop+20261121.pub",          // too few parts
      "laptop+20261121+01.pub",
      "+laptop+20261121+01.pub",                        // empty owner
      "alice@example.com++20261121+01.pub",             // empty device
      "alice@example.com+laptop++01.pub",               // empty date
      "alice@example.com+laptop+20261121+.pub",         // empty serial
      "alice@example.com+laptop+20261121+00.pub",       // serial starts at 01
      "alice@example.com+laptop+20261121+1.pub",
      "alice@example.com+laptop+20261121+001.pub",
      "alice@example.com+laptop+20261121+0a.pub",
      "alice@example.com+laptop+20261121+-1.pub",
      "alice@example.com+lap top+20261121+01.pub",      // blank
      "alice@example.com+lap\ttop+20261121+01.pub",     // control characters
      "alice@example.com+lap\ntop+20261121+01.pub",
      "alice@example.com+lap\rtop+20261121+01.pub",
      std::string("alice@example.com+lap\0top+20261121+01.pub", 41),
      "alice@example.com+lap\x7ftop+20261121+01.pub",
      "alice@example.com+lap/top+20261121+01.pub",      // '/'
      "alice@example.com+..+20261121+01.pub",           // '..'
      "alice@example.com+a..b+20261121+01.pub",
      "alice@example.com+.laptop+20261121+01.pub",      // leading dot
      ".alice@example.com+laptop+20261121+01.pub",
      "alice@example.com+lap+top+20261121+01.pub",      // '+' in the device (or the domain)
      "alice@example.com+lap\"top+20261121+01.pub",
      "alice@example.com+lap$top+20261121+01.pub",
      "alice@example.com+lap\xc3\xa9+20261121+01.pub",   // non-ASCII
      "alice+laptop+20261121+01.pub",                   // owner not an e-mail address
      "alice@localhost+laptop+20261121+01.pub",
      "al/ice@example.com+laptop+20261121+01.pub",
      "alice@exa/mple.com+laptop+20261121+01.pub",
      "alice@example.com+laptop+2026112+01.pub",        // bad dates
      "alice@example.com+laptop+202611211+01.pub",
      "alice@example.com+laptop+2026112a+01.pub",
      "alice@example.com+laptop+20261321+01.pub",
      "alice@example.com+laptop+20260021+01.pub",
      "alice@example.com+laptop+20261100+01.pub",
      "alice@example.com+laptop+20261132+01.pub",
      "alice@example.com+laptop+20261131+01.pub",       // November has 30 days
      "alice@example.com+laptop+20260230+01.pub",       // February 30th
      "alice@example.com+laptop+20250229+01.pub",       // not a leap year
      "alice@example.com+laptop+21000229+01.pub",       // 2100 is not a leap year
      "alice@example.com+laptop+2026-11-21+01.pub",
      std::string(300, 'a') + "@example.com+laptop+20261121+01.pub",
      "alice@example.com+" + std::string(kMaxDeviceBytes + 1, 'd') + "+20261121+01.pub",
  };
  for (const std::string& name : bad) {
    auto k = ParseKeyFileName(name);
    EXPECT_FALSE(k) << "accepted \"" << name << "\"";
    if (!k) {
      EXPECT_EQ(k.error().code, "bad_file_name") << name;
      EXPECT_NE(k.error().message.find("naming rule"), std::string::npos) << k.error().message;
    }
  }
}

TEST(KeyName, DeviceLimits) {
  EXPECT_TRUE(ValidateDevice(std::string(kMaxDeviceBytes, 'd')));
  EXPECT_FALSE(ValidateDevice(std::string(kMaxDeviceBytes + 1, 'd')));
  for (std::string ok : {"laptop", "phone-2024", "work_pc", "a.b", "A", "x1"}) {
    EXPECT_TRUE(ValidateDevice(ok)) << ok;
  }
  for (std::string no : {"", ".", "..", ".hidden", "a..b", "a/b", "/", "../x", "a b", "a\tb", "a\nb", "a+b",
                         "a\\b", "a*b", "a;b", "a'b", "a`b", "-\x01"}) {
    auto r = ValidateDevice(no);
    EXPECT_FALSE(r) << "accepted device \"" << no << "\"";
    if (!r) { EXPECT_EQ(r.error().code, "bad_device"); }
  }
}

TEST(KeyName, Email) {
  for (std::string ok : {"alice@example.com", "a@b.co", "first.last+tag@mail.example.org", "x_y-z@a-b.c-d.org",
                         "UPPER@EXAMPLE.COM"}) {
    EXPECT_TRUE(ValidateEmail(ok)) << ok;
  }
  std::vector<std::string> bad = {
      "", "alice", "@example.com", "alice@", "alice@example", "alice@@example.com", "a@b@example.com",
      "al ice@example.com", "alice@exa mple.com", ".alice@example.com", "alice.@example.com", "al..ice@example.com",
      "alice@.example.com", "alice@example.com.", "alice@example..com", "alice@-example.com", "alice@example-.com",
      "alice@example.-com", "alice@exam_ple.com", "alice@exa+mple.com", "al/ice@example.com", "alice@exa/mple.com",
      "alice\n@example.com", "alice@example.com\n", "al\"ice@example.com", "alice@example.com+laptop",
      "al\xc3\xa9@example.com", std::string(kMaxEmailBytes - 11, 'a') + "@example.com"};
  for (const std::string& no : bad) {
    auto r = ValidateEmail(no);
    EXPECT_FALSE(r) << "accepted e-mail \"" << no << "\"";
    if (!r) { EXPECT_EQ(r.error().code, "bad_owner"); }
  }
  // The longest allowed address is accepted.
  EXPECT_TRUE(ValidateEmail(std::string(kMaxEmailBytes - 12, 'a') + "@example.com"));
}

TEST(KeyName, Dates) {
  for (std::string ok : {"20261121", "20240229", "20000229", "19700101", "99991231", "20261130", "20260131"}) {
    EXPECT_TRUE(ValidateDate(ok)) << ok;
  }
  for (std::string no : {"", "2026112", "202611211", "2026-1121", "20261321", "20261200", "20261232",
                         "20261131", "20260431", "20260230", "20250229", "19000229", "abcdefgh", "2026112 "}) {
    auto r = ValidateDate(no);
    EXPECT_FALSE(r) << "accepted date \"" << no << "\"";
    if (!r) { EXPECT_EQ(r.error().code, "bad_date"); }
  }
}

TEST(KeyName, TodayUtc) {
  EXPECT_EQ(TodayUtc(0), "19700101");
  EXPECT_EQ(TodayUtc(86399), "19700101");
  EXPECT_EQ(TodayUtc(86400), "19700102");
  EXPECT_EQ(TodayUtc(1795305599), "20261121");  // 2026-11-21T23:59:59Z
  EXPECT_EQ(TodayUtc(1795305600), "20261122");
  EXPECT_EQ(TodayUtc(1709164800), "20240229");
}

TEST(Selector, OwnerAndDeviceAsTwoWords) {
  auto s = ParseSelector({"alice@example.com", "laptop"});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->owner, "alice@example.com");
  EXPECT_EQ(s->device, "laptop");
  EXPECT_TRUE(s->file.empty());
  EXPECT_TRUE(s->fingerprint.empty());

  EXPECT_FALSE(ParseSelector({"alice", "laptop"}));
  EXPECT_FALSE(ParseSelector({"alice@example.com", "../laptop"}));
  EXPECT_FALSE(ParseSelector({"alice@example.com", "lap/top"}));
  EXPECT_FALSE(ParseSelector({"alice@example.com", ""}));
}

TEST(Selector, OneWord) {
  auto fp = ParseSelector({"SHA256:ezzPgZK1mUbgZpj6jeEzatdYB7TT7GIvODykc/1wqec"});
  ASSERT_TRUE(fp);
  EXPECT_EQ(fp->fingerprint, "SHA256:ezzPgZK1mUbgZpj6jeEzatdYB7TT7GIvODykc/1wqec");
  auto md5 = ParseSelector({"MD5:c5:3e:72:c6:f9:55:58:47:5c:ad:d9:8f:89:9f:37:ea"});
  ASSERT_TRUE(md5);
  EXPECT_EQ(md5->fingerprint, "MD5:c5:3e:72:c6:f9:55:58:47:5c:ad:d9:8f:89:9f:37:ea");

  auto file = ParseSelector({"alice@example.com+laptop+20261121+01.pub"});
  ASSERT_TRUE(file);
  EXPECT_EQ(file->file, "alice@example.com+laptop+20261121+01.pub");
  auto no_suffix = ParseSelector({"alice@example.com+laptop+20261121+01"});
  ASSERT_TRUE(no_suffix);
  EXPECT_EQ(no_suffix->file, "alice@example.com+laptop+20261121+01.pub");

  auto od = ParseSelector({"alice+tag@example.com+laptop"});
  ASSERT_TRUE(od);
  EXPECT_EQ(od->owner, "alice+tag@example.com");
  EXPECT_EQ(od->device, "laptop");
  EXPECT_TRUE(od->file.empty());
}

TEST(Selector, RefusesWhatNamesNoKey) {
  std::vector<std::vector<std::string>> bad = {
      {},
      {""},
      {"nosuch"},
      {"laptop"},
      {"../../etc/passwd"},
      {"users/alice@example.com+laptop+20261121+01.pub"},
      {"alice@example.com+laptop+20261121+00.pub"},
      {"alice@example.com+../x"},
      {"alice@example.com+.hidden"},
      {"a", "b", "c"},
  };
  for (const auto& words : bad) {
    auto s = ParseSelector(words);
    std::string joined;
    for (const auto& w : words) joined += "[" + w + "]";
    EXPECT_FALSE(s) << "accepted selector " << joined;
  }
  auto s = ParseSelector({"nosuch"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, "bad_selector");
  EXPECT_NE(s.error().message.find("nosuch"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace keyward::store
