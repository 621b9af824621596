#include "totp_command.h"

#include <langinfo.h>
#include <qrencode.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>

namespace keyward::app {
namespace {

constexpr std::size_t kMaxAnswerBytes = 64;

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

// Level L: the fewest, largest modules for the URI's 120-odd bytes (version
// 6 or 7, 41 or 45 modules, for a usual host name), which a phone reads
// best from a terminal; a screen needs no damage tolerance.
Result<cli::QrModules> EncodeQr(const std::string& text) {
  std::unique_ptr<QRcode, QrFree> code(QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_L, QR_MODE_8, 1));
  if (!code) return Fail("qr_failed", std::string("cannot make the QR code: ") + std::strerror(errno));
  cli::QrModules qr;
  qr.width = code->width;
  const auto count = static_cast<std::size_t>(code->width) * static_cast<std::size_t>(code->width);
  qr.dark.reserve(count);
  for (std::size_t i = 0; i < count; ++i) qr.dark.push_back((code->data[i] & 1) != 0);  // bit 0: dark
  return qr;
}

// One line from standard input, without its newline; nullopt at its end.
std::optional<std::string> Ask(std::string_view prompt) {
  WriteAll(STDOUT_FILENO, prompt);
  std::string line;
  for (;;) {
    char c;
    ssize_t n = read(STDIN_FILENO, &c, 1);  // byte by byte: nothing read past the line
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return line.empty() ? std::nullopt : std::optional<std::string>(line);
    if (c == '\n') return line;
    if (line.size() < kMaxAnswerBytes) line.push_back(c);
  }
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

bool Utf8Terminal() {
  const char* codeset = nl_langinfo(CODESET);  // main() has set LC_CTYPE from the environment
  return codeset != nullptr && std::strcmp(codeset, "UTF-8") == 0;
}

}  // namespace

TotpCommand::TotpCommand(CLI::App& app) {
  CLI::App* totp = app.add_subcommand("totp", "The TOTP second factor (authenticator apps)");
  totp->require_subcommand(1);
  enroll_ = totp->add_subcommand(
      "enroll", "Create a TOTP secret, show it as a QR code and write it to ~/.keyward/totp (mode 0600)");
  enroll_->add_option("--account", options_.account, "Enroll this user (root only; drops to that user)");
  enroll_->add_flag("--force", options_.force, "Replace a secret already enrolled (the app's old entry stops working)");
  enroll_->add_flag("--no-confirm", no_confirm_, "Do not ask for a first code from the app");
  enroll_->add_flag("--invert-qr", invert_, "Draw the QR code for a terminal with a light background");
}

int TotpCommand::Run() {
  if (options_.account.empty()) {
    const char* home = std::getenv("HOME");
    if (home != nullptr) options_.home = home;
  }
  options_.host = HostName();
  options_.confirm = !no_confirm_;
  cli::TotpEnrollIo io;
  io.encode_qr = EncodeQr;
  io.out = [](std::string_view s) { WriteAll(STDOUT_FILENO, s); };
  io.err = [](std::string_view s) { WriteAll(STDERR_FILENO, s); };
  if (isatty(STDIN_FILENO)) io.ask = Ask;
  io.now = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
  io.style = Utf8Terminal() ? cli::QrStyle::kHalfBlocks : cli::QrStyle::kAscii;
  io.invert_qr = invert_;
  return cli::RunTotpEnroll(options_, io);
}

}  // namespace keyward::app
