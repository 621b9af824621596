#include "store/key_name.h"

#include <cstdio>
#include <ctime>

namespace keyward::store {

namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Characters allowed in a file name part: no '/', no blanks, no control
// characters, no quotes or shell metacharacters, and not the separator '+'
// except in an e-mail's local part.
bool IsNameChar(char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '-'; }

}  // namespace

Result<void> ValidateEmail(std::string_view email) {
  if (email.empty()) return Fail("bad_owner", "the owner's e-mail address is empty");
  if (email.size() > kMaxEmailBytes) return Fail("bad_owner", "the owner's e-mail address is too long");
  std::size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos) {
    return Fail("bad_owner", "\"" + std::string(email) + "\" is not an e-mail address (name@example.org)");
  }
  std::string_view local = email.substr(0, at);
  std::string_view domain = email.substr(at + 1);
  for (char c : local) {
    if (!IsNameChar(c) && c != '+') {
      return Fail("bad_owner", "the e-mail address \"" + std::string(email) +
                                   "\" has a character keyward does not allow in its name part; use letters, digits, "
                                   ". _ - +");
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return Fail("bad_owner", "the e-mail address \"" + std::string(email) + "\" has a misplaced dot");
  }
  // A domain with at least one dot, labels of letters, digits and hyphens.
  if (domain.empty() || domain.find('.') == std::string_view::npos) {
    return Fail("bad_owner", "\"" + std::string(email) + "\" has no domain with a dot after the @ (name@example.org)");
  }
  std::size_t label = 0;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      if (label == 0 || domain[i - 1] == '-' || domain[i - label] == '-') {
        return Fail("bad_owner", "the domain of \"" + std::string(email) + "\" is not valid");
      }
      label = 0;
      continue;
    }
    if (!IsAlnum(domain[i]) && domain[i] != '-') {
      return Fail("bad_owner", "the domain of \"" + std::string(email) + "\" may hold only letters, digits, - and .");
    }
    ++label;
  }
  return {};
}

Result<void> ValidateDevice(std::string_view device) {
  if (device.empty()) return Fail("bad_device", "the device name is empty; name the machine the key lives on");
  if (device.size() > kMaxDeviceBytes) {
    return Fail("bad_device", "the device name is longer than " + std::to_string(kMaxDeviceBytes) + " characters");
  }
  if (device.front() == '.') return Fail("bad_device", "the device name must not start with a dot");
  if (device.find("..") != std::string_view::npos) return Fail("bad_device", "the device name must not contain ..");
  for (char c : device) {
    if (!IsNameChar(c)) {
      return Fail("bad_device", "the device name \"" + std::string(device) +
                                    "\" may hold only letters, digits, . _ and - (no /, blanks or +)");
    }
  }
  return {};
}

Result<void> ValidateDate(std::string_view d) {
  if (d.size() != 8) return Fail("bad_date", "a date is YYYYMMDD");
  for (char c : d) {
    if (c < '0' || c > '9') return Fail("bad_date", "a date is YYYYMMDD");
  }
  int year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
  int month = (d[4] - '0') * 10 + (d[5] - '0');
  int day = (d[6] - '0') * 10 + (d[7] - '0');
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int days_in_month = month >= 1 && month <= 12 ? kDays[month - 1] + (month == 2 && leap ? 1 : 0) : 0;
  if (day < 1 || day > days_in_month) return Fail("bad_date", "the date " + std::string(d) + " does not exist");
  return {};
}

std::string KeyName::Prefix() const { return owner + "+" + device + "+" + date + "+"; }

std::string KeyName::FileName() const {
  char nn[8];
  std::snprintf(nn, sizeof nn, "%02d", serial);
  return Prefix() + nn + ".pub";
}

Result<KeyName> ParseKeyFileName(std::string_view name) {
  auto bad = [&](std::string why) {
    return Fail("bad_file_name", "\"" + std::string(name) + "\" does not follow the naming rule "
                                 "<e-mail>+<device>+<YYYYMMDD>+<NN>.pub: " + std::move(why));
  };
  constexpr std::string_view kSuffix = ".pub";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return bad("it does not end in .pub");
  }
  std::string_view stem = name.substr(0, name.size() - kSuffix.size());
  std::size_t p3 = stem.rfind('+');
  if (p3 == std::string_view::npos) return bad("no + separators");
  std::size_t p2 = stem.rfind('+', p3 == 0 ? 0 : p3 - 1);
  if (p2 == std::string_view::npos || p2 == p3) return bad("too few + separators");
  std::size_t p1 = stem.rfind('+', p2 == 0 ? 0 : p2 - 1);
  if (p1 == std::string_view::npos || p1 == p2) return bad("too few + separators");
  KeyName k;
  k.owner = std::string(stem.substr(0, p1));
  k.device = std::string(stem.substr(p1 + 1, p2 - p1 - 1));
  k.date = std::string(stem.substr(p2 + 1, p3 - p2 - 1));
  std::string_view serial = stem.substr(p3 + 1);
  if (auto ok = ValidateEmail(k.owner); !ok) return bad(ok.error().message);
  if (auto ok = ValidateDevice(k.device); !ok) return bad(ok.error().message);
  if (auto ok = ValidateDate(k.date); !ok) return bad(ok.error().message);
  if (serial.size() != 2 || serial[0] < '0' || serial[0] > '9' || serial[1] < '0' || serial[1] > '9') {
    return bad("the serial is two digits");
  }
  k.serial = (serial[0] - '0') * 10 + (serial[1] - '0');
  if (k.serial < 1) return bad("the serial starts at 01");
  return k;
}

std::string TodayUtc(std::int64_t now) {
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

}  // namespace keyward::store
