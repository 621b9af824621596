// The client address: X-Forwarded-For believed only from trusted proxies,
// and only up to the right-most hop they do not vouch for.
#include "web/client_address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keyward::web {
namespace {

ProxyList Proxies(const std::vector<std::string>& entries) {
  auto list = ProxyList::Parse(entries);
  EXPECT_TRUE(list.has_value()) << (list ? "" : list.error().message);
  return list ? *list : ProxyList();
}

std::string Client(std::string_view peer, std::vector<std::string_view> xff, const ProxyList& proxies) {
  return ClientAddress(peer, xff, proxies);
}

TEST(ClientAddress, UntrustedPeerIsTheClient) {
  ProxyList none;
  EXPECT_EQ(Client("203.0.113.9", {}, none), "203.0.113.9");
  // Anyone can send the header; without a trusted proxy it is ignored.
  EXPECT_EQ(Client("203.0.113.9", {"1.2.3.4"}, none), "203.0.113.9");
  ProxyList proxy = Proxies({"127.0.0.1"});
  EXPECT_EQ(Client("203.0.113.9", {"1.2.3.4"}, proxy), "203.0.113.9");
  EXPECT_EQ(Client("127.0.0.2", {"1.2.3.4"}, proxy), "127.0.0.2");
}

TEST(ClientAddress, TrustedPeerRightMostUntrustedHop) {
  ProxyList proxy = Proxies({"127.0.0.1", "10.0.0.0/8"});
  EXPECT_EQ(Client("127.0.0.1", {"198.51.100.7"}, proxy), "198.51.100.7");
  // The client made up the left part; the proxy appended the real address.
  EXPECT_EQ(Client("127.0.0.1", {"6.6.6.6, 198.51.100.7"}, proxy), "198.51.100.7");
  // Two trusted proxies in a row.
  EXPECT_EQ(Client("127.0.0.1", {"6.6.6.6, 198.51.100.7, 10.1.2.3"}, proxy), "198.51.100.7");
  // Several headers are one list, in order.
  EXPECT_EQ(Client("127.0.0.1", {"6.6.6.6", "198.51.100.7, 10.0.0.5"}, proxy), "198.51.100.7");
  // Spaces and tabs around entries.
  EXPECT_EQ(Client("127.0.0.1", {" 198.51.100.7 ,\t10.0.0.5 "}, proxy), "198.51.100.7");
  // Every hop trusted: the left-most one.
  EXPECT_EQ(Client("127.0.0.1", {"10.0.0.9, 10.0.0.5"}, proxy), "10.0.0.9");
  // No header from a trusted proxy: the proxy itself.
  EXPECT_EQ(Client("127.0.0.1", {}, proxy), "127.0.0.1");
}

TEST(ClientAddress, GarbageStopsTheWalk) {
  ProxyList proxy = Proxies({"127.0.0.1", "10.0.0.0/8"});
  // A hop that is not an address: the last address the proxies vouch for.
  EXPECT_EQ(Client("127.0.0.1", {"198.51.100.7, evil.example"}, proxy), "127.0.0.1");
  EXPECT_EQ(Client("127.0.0.1", {"198.51.100.7, <script>, 10.0.0.5"}, proxy), "10.0.0.5");
  EXPECT_EQ(Client("127.0.0.1", {""}, proxy), "127.0.0.1");
  EXPECT_EQ(Client("127.0.0.1", {"198.51.100.7:4711"}, proxy), "127.0.0.1");
  EXPECT_EQ(Client("127.0.0.1", {"198.51.100.7,"}, proxy), "127.0.0.1");
}

TEST(ClientAddress, HopLimit) {
  ProxyList proxy = Proxies({"10.0.0.0/8"});
  std::string chain = "198.51.100.7";
  for (std::size_t i = 0; i < kMaxForwardedHops + 5; ++i) chain += ", 10.0.0.1";
  EXPECT_EQ(Client("10.0.0.1", {chain}, proxy), "10.0.0.1");
}

TEST(ClientAddress, Ipv6AndMappedAddresses) {
  ProxyList proxy = Proxies({"::1", "fd00::/8", "127.0.0.1"});
  EXPECT_EQ(Client("::1", {"2001:db8::1"}, proxy), "2001:db8::1");
  EXPECT_EQ(Client("::1", {"2001:DB8:0:0::1, fd12::3"}, proxy), "2001:db8::1");
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
  EXPECT_EQ(Client("::ffff:127.0.0.1", {"198.51.100.7"}, proxy), "198.51.100.7");
  EXPECT_EQ(Client("::ffff:203.0.113.9", {"198.51.100.7"}, proxy), "203.0.113.9");
  EXPECT_EQ(Client("::1", {"::ffff:198.51.100.7"}, proxy), "198.51.100.7");
}

TEST(ClientAddress, CanonicalAddress) {
  EXPECT_EQ(CanonicalAddress("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(CanonicalAddress("2001:0DB8::0001"), "2001:db8::1");
  EXPECT_EQ(CanonicalAddress("::ffff:192.0.2.1"), "192.0.2.1");
  for (const char* bad : {"", "localhost", "192.0.2", "192.0.2.1.5", "192.0.2.256", "1.2.3.4/8", "fe80::1%eth0",
                          "[::1]", "::1:", "01.2.3.4 x"}) {
    EXPECT_FALSE(CanonicalAddress(bad).has_value()) << bad;
  }
}

TEST(ProxyList, Networks) {
  ProxyList p = Proxies({"10.0.0.0/8", "192.168.1.0/28", "2001:db8::/33"});
  EXPECT_TRUE(p.Contains("10.255.0.1"));
  EXPECT_FALSE(p.Contains("11.0.0.1"));
  EXPECT_TRUE(p.Contains("192.168.1.15"));
  EXPECT_FALSE(p.Contains("192.168.1.16"));
  EXPECT_TRUE(p.Contains("2001:db8:7fff::1"));
  EXPECT_FALSE(p.Contains("2001:db8:8000::1"));
  EXPECT_FALSE(p.Contains("::ffff:11.0.0.1"));
  EXPECT_TRUE(p.Contains("::ffff:10.0.0.1"));
  EXPECT_FALSE(p.Contains("not an address"));
  EXPECT_TRUE(Proxies({"0.0.0.0/0"}).Contains("203.0.113.9"));
}

TEST(ProxyList, RefusesBadEntries) {
  for (const char* bad : {"", "proxy.example", "10.0.0.0/", "10.0.0.0/33", "::1/129", "10.0.0.0/8/8", "10.0.0.0/-1",
                          "10.0.0.0/a"}) {
    EXPECT_FALSE(ProxyList::Parse({bad}).has_value()) << bad;
  }
}

}  // namespace
}  // namespace keyward::web
