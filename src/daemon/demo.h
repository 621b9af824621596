// `keywardd --demo DIR`: a throwaway installation that needs no root, for
// `make run` and the end-to-end tests. DIR gets a configuration with the
// directory account source and two accounts, alice and bob (each a folder
// with an initialised store and an "email" file), console channels for
// codes and alerts, a user CA in DIR/ca with the roles "login" (every
// account) and "deploy" (alice), the KRL path DIR/keyward.krl (not built),
// and the socket DIR/keywardd.sock served to the current user. Running it
// again on the same DIR keeps the accounts' keys and the CA.
#pragma once

#include <string>

#include "base/error.h"
#include "config/config.h"

namespace keyward::daemon {

struct Demo {
  config::Config config;
  std::string config_path;
  std::string report;  // what was done, for the console
};

Result<Demo> SetUpDemo(const std::string& dir);

}  // namespace keyward::daemon
