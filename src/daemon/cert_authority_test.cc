// The roles keywardd offers an account, and durations in words.
#include "daemon/cert_authority.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keyward::daemon {
namespace {

config::RoleConfig Role(std::string name, std::vector<std::string> principals) {
  config::RoleConfig r;
  r.name = std::move(name);
  r.principals = std::move(principals);
  return r;
}

TEST(DurationText, WholeUnitsInWords) {
  EXPECT_EQ(DurationText(7 * 86400), "1 week");
  EXPECT_EQ(DurationText(14 * 86400), "2 weeks");
  EXPECT_EQ(DurationText(28 * 86400), "28 days");
  EXPECT_EQ(DurationText(86400), "1 day");
  EXPECT_EQ(DurationText(3 * 86400), "3 days");
  EXPECT_EQ(DurationText(3600), "1 hour");
  EXPECT_EQ(DurationText(36 * 3600), "36 hours");
  EXPECT_EQ(DurationText(600), "10 minutes");
  EXPECT_EQ(DurationText(90), "90 seconds");
  EXPECT_EQ(DurationText(1), "1 second");
}

TEST(RolesJson, ByNameByGroupAndNeverAnother) {
  config::CaConfig ca;
  config::RoleConfig login = Role("login", {"%u"});
  login.accounts = {"*"};
  login.extensions = {"permit-pty"};
  config::RoleConfig ops = Role("ops", {"ops", "%u-ops"});
  ops.groups = {"wheel"};
  ops.force_command = "/usr/local/bin/ops --as %u";
  ops.source_address = {"10.0.0.0/8"};
  ops.max_validity = 3600;
  config::RoleConfig carol_only = Role("carol", {"carol"});
  carol_only.accounts = {"carol"};
  ca.roles = {login, ops, carol_only};

  auto alice = RolesJson(ca, "alice", {"alice", "wheel"});
  ASSERT_EQ(alice.size(), 2u) << alice.dump();
  EXPECT_EQ(alice[0]["name"], "login");
  EXPECT_EQ(alice[0]["principals"], nlohmann::json::array({"alice"}));
  EXPECT_EQ(alice[0]["extensions"], nlohmann::json::array({"permit-pty"}));
  EXPECT_EQ(alice[0]["force_command"], "");
  EXPECT_EQ(alice[1]["name"], "ops");
  EXPECT_EQ(alice[1]["principals"], nlohmann::json::array({"ops", "alice-ops"}));
  EXPECT_EQ(alice[1]["force_command"], "/usr/local/bin/ops --as alice");
  EXPECT_EQ(alice[1]["source_address"], nlohmann::json::array({"10.0.0.0/8"}));
  EXPECT_EQ(alice[1]["max_validity"], 3600);
  EXPECT_EQ(alice[1]["max_validity_text"], "1 hour");

  // Not in wheel: login only. A name that cannot be a principal: nothing.
  EXPECT_EQ(RolesJson(ca, "bob", {"bob"}).size(), 1u);
  EXPECT_EQ(RolesJson(ca, "carol", {})[1]["name"], "carol");
  EXPECT_TRUE(RolesJson(ca, "Mallory", {"wheel"}).empty());
  EXPECT_TRUE(RolesJson(config::CaConfig{}, "alice", {}).empty());
}

}  // namespace
}  // namespace keyward::daemon
