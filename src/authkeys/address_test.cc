#include "authkeys/address.h"

#include <gtest/gtest.h>

#include <string>

namespace keyward::authkeys {
namespace {

TEST(ValidateCidrList, Accepts) {
  const std::string accepted[] = {
      "127.0.0.1",
      "127.0.0.1/32",
      "10.0.0.0/8",
      "0.0.0.0/0",
      "192.0.2.128/25",
      "::1",
      "::1/128",
      "::/0",
      "2001:db8::/32",
      "2001:DB8::/32",
      "::ffff:1.2.3.4",
      "127.0.0.1/32,::1/128",
      "192.168.0.0/16,10.0.0.0/8,2001:db8::/48",
      "10.0.0.0/08",                // the prefix is decimal; a leading zero is fine
      "::/" + std::string(46, '0'),  // 49 bytes: the longest entry
      // sshd reads addresses with getaddrinfo(AI_NUMERICHOST); glibc's takes
      // the inet_aton forms: "127.1" is 127.0.0.1, "0177.0.0.1" is octal.
      "127.1",
      "0177.0.0.1/32",
  };
  for (const std::string& list : accepted) {
    auto valid = ValidateCidrList(list);
    EXPECT_TRUE(valid) << list << ": " << valid.error().message;
  }
}

struct RejectCase {
  std::string list;
  std::string message;  // a part of the message
  const char* why;
};

TEST(ValidateCidrList, Rejects) {
  const RejectCase rejected[] = {
      {"", "is empty", "an empty list"},
      {",", "empty entry", "two empty entries"},
      {"127.0.0.1,", "empty entry", "a comma at the end"},
      {",127.0.0.1", "empty entry", "a comma at the start"},
      {"127.0.0.1,,::1", "empty entry", "two commas"},
      {"xxxxx", "character other than", "not hex, '.', ':' or '/'"},
      {"localhost", "character other than", "no host names"},
      {"*", "character other than", "no wildcards"},
      {"!10.0.0.0/8", "character other than", "no negation"},
      {"10.0.0.0/8 ", "character other than", "a blank"},
      {" 10.0.0.0/8", "character other than", "a blank"},
      {"fe80::1%1", "character other than", "no zone index"},
      {"0x7f.0.0.1", "character other than", "no hex inet_aton form"},
      {"1.2.3.4/-1", "character other than", "no sign"},
      {"::/" + std::string(47, '0'), "longer than 49 bytes", "50 bytes"},
      {"10.1.2.3/8", "write 10.0.0.0/8", "address bits beyond the prefix"},
      {"192.0.2.1/24", "write 192.0.2.0/24", "address bits beyond the prefix"},
      {"2001:db8::1/32", "write 2001:db8::/32", "address bits beyond the prefix"},
      {"::ffff:10.1.2.3/104", "beyond its /104 prefix", "address bits beyond the prefix"},
      {"10.0.0.0/33", "above 32", "IPv4 prefixes end at 32"},
      {"::/129", "above 128", "IPv6 prefixes end at 128"},
      {"10.0.0.0/", "not a decimal number", "an empty prefix"},
      {"10.0.0.0/8/8", "not a decimal number", "two slashes"},
      {"10.0.0.0/a", "not a decimal number", "hex is not decimal"},
      {"/8", "not an IPv4 or IPv6 address", "no address"},
      {"1.2.3.4.5", "not an IPv4 or IPv6 address", "five parts"},
      {"1.2.3.256", "not an IPv4 or IPv6 address", "a part above 255"},
      {"1::2::3", "not an IPv4 or IPv6 address", "two ::"},
      {"08.0.0.1", "not an IPv4 or IPv6 address", "8 is not an octal digit"},
      {"127.0.0.1,10.1.2.3/8", "10.1.2.3/8", "the second entry is bad"},
      {std::string("1.2.3.4\0", 8), "\\x00", "a NUL is shown, not printed"},
  };
  for (const RejectCase& c : rejected) {
    SCOPED_TRACE(c.list + " (" + c.why + ")");
    auto valid = ValidateCidrList(c.list);
    ASSERT_FALSE(valid);
    EXPECT_EQ(valid.error().code, "bad_address_list");
    EXPECT_NE(valid.error().message.find(c.message), std::string::npos) << valid.error().message;
  }
}

}  // namespace
}  // namespace keyward::authkeys
