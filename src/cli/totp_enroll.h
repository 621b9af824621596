// `keyward totp enroll`: a new TOTP secret for an account, shown as an
// otpauth URI and a QR code, confirmed with a first code from the app, then
// written to %h/.keyward/totp (factor/totp_file.h has the file's rules).
//
// The terminal and libqrencode stay in apps/keyward (the core library links
// neither); they come in through TotpEnrollIo, which the tests fake.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace keyward::cli {

// A QR code's modules, row by row; true is dark.
struct QrModules {
  int width = 0;
  std::vector<bool> dark;  // width * width
  bool Dark(int x, int y) const {
    return x >= 0 && y >= 0 && x < width && y < width &&
           dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
  }
};

// Light modules around the code. The standard asks for 4; 2 is what
// `qrencode -t UTF8` draws, phone cameras read it from a screen, and it
// keeps the ASCII form near 80 columns.
inline constexpr int kQrQuietZone = 2;

enum class QrStyle {
  kHalfBlocks,  // UTF-8 terminals: "▀", "▄", "█", two module rows per line
  kAscii,       // others: "##" per light module, one module row per line
};

// Draws the code with its quiet zone. Characters mark the light modules
// and the terminal's background shows the dark ones, which is right on the
// usual dark background; `invert` is for light backgrounds.
std::string RenderQr(const QrModules& qr, QrStyle style, bool invert);

struct TotpEnrollOptions {
  std::string account;  // --account: another user (root only); empty: the caller
  std::string home;     // the caller's $HOME; ignored with --account; empty: the passwd home
  std::string host;     // for the app's label "user@host"
  std::string issuer = "keyward";
  bool force = false;   // replace an enrolled secret
  bool confirm = true;  // ask for a first code when `ask` is available
};

struct TotpEnrollIo {
  std::function<Result<QrModules>(const std::string& text)> encode_qr;
  std::function<void(std::string_view)> out;
  std::function<void(std::string_view)> err;
  // Shows `prompt` and reads one line; nullopt at end of input. Empty (no
  // function) when standard input is not a terminal.
  std::function<std::optional<std::string>(std::string_view prompt)> ask;
  std::function<std::int64_t()> now;
  QrStyle style = QrStyle::kHalfBlocks;
  bool invert_qr = false;
};

inline constexpr int kTotpConfirmTries = 3;

// Exit status 0 when the secret was written, 1 otherwise (nothing written;
// the reason is on `err`). As root with --account, drops to that user for
// good before touching any file.
int RunTotpEnroll(const TotpEnrollOptions& options, const TotpEnrollIo& io);

}  // namespace keyward::cli
