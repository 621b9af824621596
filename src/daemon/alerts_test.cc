// Alerts: every change is in keywardd's audit log at once and in one
// message to the administrator; changes that come while a message is on its
// way are gathered into the next one.
#include "daemon/alerts.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/background.h"

namespace keyward::daemon {
namespace {

Change KeyChange(const std::string& action, const std::string& account, int n) {
  return {action, account, "device" + std::to_string(n), "file" + std::to_string(n) + ".pub",
          "SHA256:fp" + std::to_string(n), "192.0.2." + std::to_string(n), 1790000000 + n, 0, {}, {}};
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class AlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/kw-alerts-test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    WaitForBackgroundJobs(5);
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(AlertsTest, OneChangeIsSentAloneAsBefore) {
  Change c = KeyChange("add", "alice", 1);
  Message one = Alerts::Compose(std::vector<Change>{c}, "root");
  Message alone = Alerts::Compose(c, "root");
  EXPECT_EQ(one.subject, alone.subject);
  EXPECT_EQ(one.body, alone.body);
  EXPECT_EQ(one.subject, "keyward: key added to alice");
}

TEST_F(AlertsTest, SeveralChangesMakeOneMessageWithEveryChange) {
  std::vector<Change> changes = {KeyChange("add", "alice", 1), KeyChange("revoke", "alice", 2),
                                 KeyChange("add", "alice", 3)};
  Message m = Alerts::Compose(changes, "root");
  EXPECT_EQ(m.to, "root");
  EXPECT_EQ(m.subject, "keyward: 3 changes on the account alice");
  std::size_t at = 0;
  for (const Change& c : changes) {
    std::string block = Alerts::Compose(c, "root").body;
    std::size_t found = m.body.find(block, at);
    ASSERT_NE(found, std::string::npos) << "missing, or out of order: " << block;
    at = found + block.size();
  }
  changes.push_back(KeyChange("add", "bob", 4));
  EXPECT_EQ(Alerts::Compose(changes, "root").subject, "keyward: 4 changes on 2 accounts");
}

TEST_F(AlertsTest, ChangesDuringASendAreGatheredIntoTheNextMessage) {
  // A channel that takes its time: each message waits 300 ms, then is
  // appended to a file with a separator.
  const std::string out = dir_ + "/messages";
  auto notifier = MakeCommandNotifier(
      {"/bin/sh", "-c", "sleep 0.3; { cat; echo '=== end'; } >> '" + out + "'", "sh"});
  auto alerts = Alerts::Open(dir_ + "/log/audit.log", notifier.get(), "root");
  ASSERT_TRUE(alerts) << alerts.error().message;
  const int kChanges = 25;  // more than one message can carry
  for (int i = 1; i <= kChanges; ++i) alerts->Report(KeyChange(i % 2 ? "add" : "revoke", "alice", i));
  EXPECT_EQ(alerts->pending(), static_cast<std::size_t>(kChanges - 1)) << "the first went at once, alone";
  alerts->Drain(10);
  EXPECT_EQ(alerts->pending(), 0u);

  std::string text = ReadText(out);
  EXPECT_EQ(Count(text, "=== end"), 3u) << "1 alone, then 20, then 4:\n" << text;
  for (int i = 1; i <= kChanges; ++i) {
    EXPECT_EQ(Count(text, "file: file" + std::to_string(i) + ".pub\n"), 1u) << "change " << i << " in one message";
  }
  // Every change is in the audit log whatever the channel does.
  std::string audit = ReadText(dir_ + "/log/audit.log");
  EXPECT_EQ(Count(audit, "\n"), static_cast<std::size_t>(kChanges));
}

TEST_F(AlertsTest, PollSendsTheGatheredChangesOnceTheSenderHasGone) {
  const std::string out = dir_ + "/messages";
  auto notifier = MakeCommandNotifier({"/bin/sh", "-c", "sleep 0.2; { cat; echo '=== end'; } >> '" + out + "'", "sh"});
  auto alerts = Alerts::Open(dir_ + "/audit.log", notifier.get(), "root");
  ASSERT_TRUE(alerts);
  alerts->Report(KeyChange("add", "alice", 1));
  alerts->Report(KeyChange("revoke", "alice", 1));
  alerts->Poll();
  EXPECT_EQ(alerts->pending(), 1u) << "still sending the first";
  // What the server's loop does: reap, then poll.
  for (int i = 0; i < 400 && alerts->pending() != 0; ++i) {
    usleep(5000);
    ReapBackgroundJobs();
    alerts->Poll();
  }
  EXPECT_EQ(alerts->pending(), 0u);
  alerts->Drain(5);
  std::string text = ReadText(out);
  EXPECT_EQ(Count(text, "=== end"), 2u) << text;
  EXPECT_EQ(Count(text, "keyward: key added to the account alice"), 1u);
  EXPECT_EQ(Count(text, "keyward: key revoked from the account alice"), 1u);
}

// A channel that carries little per message (as one SMS): each message it is
// given is appended to a file, in the background child that sends it.
class SmallChannel final : public Notifier {
 public:
  SmallChannel(std::string path, std::size_t limit) : path_(std::move(path)), limit_(limit) {}
  std::string name() const override { return "small"; }
  std::size_t max_message_bytes() const override { return limit_; }
  Result<void> Send(const Message& m) override {
    if (m.subject.size() + m.body.size() > limit_) return Fail("bad_message", "too long for this channel");
    usleep(100000);
    std::ofstream(path_, std::ios::app) << m.body << "=== " << m.subject.size() + m.body.size() << " bytes\n";
    return {};
  }

 private:
  std::string path_;
  std::size_t limit_;
};

TEST_F(AlertsTest, AGatheredMessageFitsTheChannel) {
  const std::string out = dir_ + "/messages";
  const std::size_t one = [] {
    Message m = Alerts::Compose(KeyChange("add", "alice", 1), "root");
    return m.subject.size() + m.body.size();
  }();
  SmallChannel channel(out, one * 2 + one / 2);  // room for two changes, not three
  auto alerts = Alerts::Open(dir_ + "/audit.log", &channel, "root");
  ASSERT_TRUE(alerts);
  for (int i = 1; i <= 7; ++i) alerts->Report(KeyChange("add", "alice", i));
  alerts->Drain(10);
  std::string text = ReadText(out);
  EXPECT_EQ(Count(text, "=== "), 4u) << "1 alone, then 2, 2, 2:\n" << text;
  for (int i = 1; i <= 7; ++i) EXPECT_EQ(Count(text, "file: file" + std::to_string(i) + ".pub\n"), 1u) << i;
}

}  // namespace
}  // namespace keyward::daemon
