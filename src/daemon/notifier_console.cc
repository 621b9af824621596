// The demo's channel: messages, codes included, on a descriptor (the
// console of `make run`, or a file a test reads).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "daemon/notifier.h"

namespace keyward::daemon {
namespace {

// What reaches a terminal must not drive it: control characters (escape
// sequences above all) other than the line breaks we place become '?'.
void AppendShown(std::string_view text, std::string& out) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
}

class ConsoleNotifier final : public Notifier {
 public:
  explicit ConsoleNotifier(int fd) : fd_(fd) {}
  std::string name() const override { return "console"; }

  Result<void> Send(const Message& message) override {
    if (message.to.size() > kMaxRecipientBytes || message.subject.size() + message.body.size() > kMaxMessageBytes) {
      return Fail("bad_message", "the message is too long");
    }
    std::string block = "keyward message to ";
    AppendShown(message.to, block);
    block += ": ";
    AppendShown(message.subject, block);
    block += '\n';
    std::string_view body = message.body;
    while (!body.empty()) {
      auto end = body.find('\n');
      std::string_view line = body.substr(0, end);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      block += "  ";
      AppendShown(line, block);
      block += '\n';
      body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    }
    // One block at a time, so that messages from several threads do not mix.
    std::lock_guard lock(mutex_);
    std::string_view rest = block;
    while (!rest.empty()) {
      ssize_t n = write(fd_, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail("console_failed", std::string("cannot write the message: ") + std::strerror(errno));
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
  }

 private:
  int fd_;
  std::mutex mutex_;
};

}  // namespace

std::unique_ptr<Notifier> MakeConsoleNotifier(int fd) { return std::make_unique<ConsoleNotifier>(fd); }

}  // namespace keyward::daemon
