// `keyward totp enroll`: registered on the main parser by main(), run from
// here (the QR encoder and the terminal live in the program, not in the
// core library).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/totp_enroll.h"

namespace keyward::app {

class TotpCommand {
 public:
  explicit TotpCommand(CLI::App& app);
  bool parsed() const { return enroll_->parsed(); }
  int Run();

 private:
  CLI::App* enroll_ = nullptr;
  cli::TotpEnrollOptions options_;
  bool no_confirm_ = false;
  bool invert_ = false;
};

}  // namespace keyward::app
