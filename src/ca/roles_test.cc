// Roles: the account name is checked before it reaches a principal, a role
// is refused to an account that may not have it, and no certificate
// outlives the role's max_validity.
#include "ca/roles.h"

#include <gtest/gtest.h>

#include "ca/ca_test_util.h"

namespace keyward::ca {
namespace {

using testing::MakeKey;

constexpr std::int64_t kNow = 1'800'000'000;

config::RoleConfig LoginRole() {
  config::RoleConfig r;
  r.name = "login";
  r.principals = {"%u"};
  r.max_validity = 7 * 86400;
  r.extensions = {"permit-pty", "permit-agent-forwarding"};
  r.accounts = {"*"};
  return r;
}

config::RoleConfig CreateUserRole() {
  config::RoleConfig r;
  r.name = "create-user";
  r.principals = {"root"};
  r.max_validity = 3600;
  r.force_command = "/usr/sbin/keyward-create-user %u";
  r.source_address = {"10.0.0.0/8", "192.168.0.0/16"};
  r.verify_required = true;
  r.groups = {"admins"};
  return r;
}

RoleRequest For(std::string account, std::vector<std::string> groups = {}) {
  RoleRequest r;
  r.account = std::move(account);
  r.groups = std::move(groups);
  r.now = kNow;
  r.backdate = 300;
  return r;
}

TEST(Roles, AccountNames) {
  for (const char* ok : {"alice", "_svc", "a", "bob.smith", "x-1_y", "abcdefghijklmnopqrstuvwxyz012345"}) {
    EXPECT_TRUE(ValidateAccountName(ok)) << ok;
  }
  for (const char* bad : {"", "Alice", "1abc", "-x", ".x", "a b", "a,b", "a:b", "a/b", "a%u", "a\n",
                          "abcdefghijklmnopqrstuvwxyz0123456", "al\xc3\xaf" "ce", "root$"}) {
    EXPECT_FALSE(ValidateAccountName(bad)) << bad;
  }
}

TEST(Roles, PrincipalTemplates) {
  EXPECT_EQ(*ExpandPrincipalTemplate("%u", "alice"), "alice");
  EXPECT_EQ(*ExpandPrincipalTemplate("%u-admin", "alice"), "alice-admin");
  EXPECT_EQ(*ExpandPrincipalTemplate("100%%", "alice"), "100%");
  EXPECT_EQ(*ExpandPrincipalTemplate("root", "Not Checked"), "root");  // no %u: the name is not used
  EXPECT_FALSE(ExpandPrincipalTemplate("%u", "a,root"));
  EXPECT_FALSE(ExpandPrincipalTemplate("%u", "a b"));
  EXPECT_FALSE(ExpandPrincipalTemplate("%h", "alice"));
  EXPECT_FALSE(ExpandPrincipalTemplate("x%", "alice"));
  EXPECT_EQ(*ExpandForceCommand("/usr/sbin/adduser --disabled-password %u && echo 100%%", "bob"),
            "/usr/sbin/adduser --disabled-password bob && echo 100%");
  EXPECT_FALSE(ExpandForceCommand("adduser %u", "bob; rm -rf /"));
  EXPECT_FALSE(ExpandForceCommand("date +%s", "bob"));
}

TEST(Roles, LoginForEveryAccount) {
  const key::PublicKey subject = MakeKey(key::Algorithm::kEd25519);
  auto r = RequestForRole(LoginRole(), For("alice"), subject);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->type, key::CertType::kUser);
  EXPECT_EQ(r->principals, std::vector<std::string>{"alice"});
  EXPECT_EQ(r->valid_after, static_cast<std::uint64_t>(kNow - 300));
  EXPECT_EQ(r->valid_before, static_cast<std::uint64_t>(kNow + 7 * 86400));
  EXPECT_EQ(r->extensions, (std::vector<std::string>{"permit-pty", "permit-agent-forwarding"}));
  EXPECT_TRUE(r->force_command.empty());
  EXPECT_EQ(r->serial, 0u);
  EXPECT_TRUE(r->key_id.empty());

  auto bad_name = RequestForRole(LoginRole(), For("alice,root"), subject);
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().code, "bad_account");
}

TEST(Roles, WhoMayAsk) {
  const key::PublicKey subject = MakeKey(key::Algorithm::kEd25519);
  config::RoleConfig role = CreateUserRole();
  auto refused = RequestForRole(role, For("alice", {"staff"}), subject);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "role_not_allowed");

  auto allowed = RequestForRole(role, For("alice", {"staff", "admins"}), subject);
  ASSERT_TRUE(allowed) << allowed.error().message;
  EXPECT_EQ(allowed->principals, std::vector<std::string>{"root"});
  EXPECT_EQ(allowed->force_command, "/usr/sbin/keyward-create-user alice");
  EXPECT_EQ(allowed->source_address, "10.0.0.0/8,192.168.0.0/16");
  EXPECT_TRUE(allowed->verify_required);
  EXPECT_TRUE(allowed->extensions.empty());

  role.accounts = {"bob"};
  EXPECT_TRUE(RequestForRole(role, For("bob"), subject));
  EXPECT_FALSE(RequestForRole(role, For("bobby"), subject));

  config::CaConfig ca;
  ca.roles = {LoginRole(), CreateUserRole()};
  EXPECT_EQ(RolesForAccount(ca, "alice", {}).size(), 1u);
  EXPECT_EQ(RolesForAccount(ca, "alice", {"admins"}).size(), 2u);
  EXPECT_TRUE(RolesForAccount(ca, "Alice", {"admins"}).empty());
  EXPECT_EQ(FindRole(ca, "create-user"), &ca.roles[1]);
  EXPECT_EQ(FindRole(ca, "nope"), nullptr);
}

TEST(Roles, ValidityWithinTheMaximum) {
  const key::PublicKey subject = MakeKey(key::Algorithm::kEd25519);
  auto with = [&](std::uint64_t after, std::uint64_t before) {
    RoleRequest r = For("alice");
    r.validity = Validity{after, before};
    return RequestForRole(LoginRole(), r, subject);
  };
  const std::uint64_t now = kNow, week = 7 * 86400;
  EXPECT_TRUE(with(now - 300, now + week));
  EXPECT_TRUE(with(now, now + 3600));
  EXPECT_TRUE(with(now + 3600, now + week));
  for (auto [after, before] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
           {now, now + week + 1}, {now, ~std::uint64_t{0}}, {0, now + 3600}, {now - 3600, now + week}}) {
    auto r = with(after, before);
    ASSERT_FALSE(r) << after << ":" << before;
    EXPECT_EQ(r.error().code, "validity_too_long");
  }
  EXPECT_FALSE(with(now + 10, now + 10));
}

TEST(Roles, CertificatesAreNotSubjects) {
  CaSigner ca = testing::MakeSigner(key::Algorithm::kEd25519);
  auto req = RequestForRole(LoginRole(), For("alice"), MakeKey(key::Algorithm::kEd25519));
  ASSERT_TRUE(req);
  req->serial = 1;
  auto blob = SignCertificate(ca, *req);
  ASSERT_TRUE(blob);
  auto cert = key::ParsePublicKeyBlob(*blob);
  ASSERT_TRUE(cert);
  auto r = RequestForRole(LoginRole(), For("alice"), *cert);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "certificate_as_subject");
}

TEST(Roles, GroupsOfSystemAccounts) {
  auto root_groups = GroupsOfSystemAccount("root");
  EXPECT_NE(std::find(root_groups.begin(), root_groups.end(), "root"), root_groups.end());
  EXPECT_TRUE(GroupsOfSystemAccount("no-such-user-keyward").empty());
  EXPECT_TRUE(GroupsOfSystemAccount("Bad Name").empty());
}

}  // namespace
}  // namespace keyward::ca
