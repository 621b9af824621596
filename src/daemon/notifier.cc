// Recipient rules shared by the channels (notifier.h).
#include "daemon/notifier.h"

namespace keyward::daemon {

bool IsE164(std::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+' || number[1] == '0') return false;
  for (char c : number.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Result<void> ValidateEmailAddress(std::string_view address) {
  // Never echo the address: it may hold control characters meant for a log.
  if (address.empty() || address.size() > kMaxRecipientBytes) {
    return Fail("bad_recipient", "the e-mail address is empty or longer than 254 characters");
  }
  if (address.front() == '-') {
    return Fail("bad_recipient", "an e-mail address must not start with '-' (sendmail would read it as an option)");
  }
  for (char c : address) {
    auto u = static_cast<unsigned char>(c);
    // Printable ASCII only, and none of the characters that end or group
    // addresses in a header (so one value is one recipient).
    if (u <= 0x20 || u >= 0x7f || std::string_view("\"(),:;<>[\\]").find(c) != std::string_view::npos) {
      return Fail("bad_recipient",
                  "the e-mail address holds a space, a control character or one of \"(),:;<>[\\]; give a plain "
                  "address such as admin@example.org");
    }
  }
  auto at = address.rfind('@');
  if (at != std::string_view::npos && (at == 0 || at + 1 == address.size())) {
    return Fail("bad_recipient", "the e-mail address has nothing before or after its '@'");
  }
  return {};
}

Result<void> ValidateArgumentRecipient(std::string_view to) {
  if (to.empty() || to.size() > kMaxRecipientBytes) {
    return Fail("bad_recipient", "the recipient is empty or longer than 254 characters");
  }
  if (to.front() == '-') return Fail("bad_recipient", "the recipient must not start with '-'");
  for (char c : to) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return Fail("bad_recipient", "the recipient holds a control character");
  }
  return {};
}

}  // namespace keyward::daemon
