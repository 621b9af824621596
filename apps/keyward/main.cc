// keyward: the command line. Thin: parse arguments, read input, call the
// library, write what it returns.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/ca_commands.h"
#include "cli/fingerprint.h"
#include "cli/krl_commands.h"
#include "cli/lint.h"
#include "cli/store_commands.h"
#include "cli/terminal_text.h"
#include "fs/read_file.h"
#include "totp_command.h"

namespace {

using keyward::cli::CommandOutput;

void WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

int Emit(const CommandOutput& output) {
  WriteAll(STDOUT_FILENO, output.out);
  WriteAll(STDERR_FILENO, output.err);
  return output.exit_code;
}

struct InputArgs {
  std::string file;
  bool json = false;
};

int RunFingerprintCommand(const InputArgs& args, const std::string& hash) {
  auto content = keyward::fs::ReadFileOrStdin(args.file);
  if (!content) {
    std::fprintf(stderr, "keyward: %s\n", content.error().message.c_str());
    return 255;
  }
  keyward::cli::FingerprintRequest request;
  request.content = *content;
  request.from_stdin = args.file == "-";
  request.display_name = request.from_stdin ? "(stdin)" : args.file;
  request.hash = hash == "md5" ? keyward::key::FingerprintHash::kMd5 : keyward::key::FingerprintHash::kSha256;
  request.json = args.json;
  return Emit(keyward::cli::RunFingerprint(request));
}

int RunLintCommand(const InputArgs& args) {
  auto content = keyward::fs::ReadFileOrStdin(args.file);
  if (!content) {
    std::fprintf(stderr, "keyward: %s\n", content.error().message.c_str());
    return 2;
  }
  keyward::cli::LintRequest request;
  request.content = *content;
  request.display_name = args.file == "-" ? "(stdin)" : args.file;
  request.json = args.json;
  request.now = static_cast<std::int64_t>(std::time(nullptr));
  return Emit(keyward::cli::RunLint(request));
}

// `keyward keys USER [FINGERPRINT]` runs on every ssh login, so it skips the
// general argument parser: its grammar is fixed by sshd_config.
bool IsKeysCommand(int argc, char** argv) { return argc >= 2 && std::string_view(argv[1]) == "keys"; }

int RunKeysFast(int argc, char** argv) {
  keyward::cli::StoreOptions where;
  std::vector<std::string> words;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      where.config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      where.config_path = std::string(arg.substr(9));
    } else if (arg == "-h" || arg == "--help") {
      std::fputs("usage: keyward keys [--config FILE] USER [FINGERPRINT]\n"
                 "Prints USER's active keys for sshd's AuthorizedKeysCommand (%u %f).\n",
                 stdout);
      return 0;
    } else {
      words.emplace_back(arg);
    }
  }
  if (words.empty() || words.size() > 2) {
    std::fputs("usage: keyward keys [--config FILE] USER [FINGERPRINT]\n", stderr);
    return 2;
  }
  return Emit(keyward::cli::RunKeys(where, words[0], words.size() == 2 ? words[1] : std::string()));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (IsKeysCommand(argc, argv)) return RunKeysFast(argc, argv);
    keyward::cli::SetLocaleLikeOpenSsh();
    CLI::App app{"keyward: who may log in with which SSH key"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "keyward 0.1.0");

    InputArgs fp_args;
    std::string hash = "sha256";
    auto* fingerprint = app.add_subcommand(
        "fingerprint", "Print key fingerprints exactly as ssh-keygen -l -f does (key files, authorized_keys)");
    fingerprint->add_option("-E", hash, "Hash: sha256 (default) or md5")
        ->check(CLI::IsMember({"sha256", "md5"}));
    fingerprint->add_flag("--json", fp_args.json, "Write JSON");
    fingerprint->add_option("file", fp_args.file, "Key or authorized_keys file, - for standard input")->required();

    InputArgs lint_args;
    auto* lint = app.add_subcommand("lint", "Check an authorized_keys file as sshd reads it");
    lint->add_flag("--json", lint_args.json, "Write JSON");
    lint->add_option("file", lint_args.file, "authorized_keys file, - for standard input")->required();

    // The store commands share where and for whom.
    keyward::cli::StoreOptions where;
    auto add_where = [&where](CLI::App* sub) {
      sub->add_option("--config", where.config_path, "Configuration file (default /etc/keyward.conf if present)");
      sub->add_option("--account", where.account, "Work on this user's store (root drops to that user)");
      sub->add_option("--store", where.store_dir, "The key store folder (default from the configuration: %h/.ssh)");
      sub->add_option("--authorized-keys", where.authorized_keys,
                      "The rendered file (default %h/.ssh/authorized_keys, or STORE/authorized_keys with --store)");
    };

    auto* init = app.add_subcommand("init", "Create the key store (users/, revoked/, !!README!!)");
    add_where(init);

    keyward::cli::AddOptions add_args;
    auto* add = app.add_subcommand("add", "Add a public key for an owner's device");
    add_where(add);
    add->add_option("--owner", add_args.owner, "The owner's e-mail address")->required();
    add->add_option("--device", add_args.device, "The device the key lives on (laptop, phone, ...)")->required();
    auto* expires = add->add_option("--expires", add_args.expires, "Expiry date, UTC: YYYY-MM-DD or YYYYMMDD[HHMM[SS]]");
    auto* days = add->add_option("--days", add_args.days, "Expire after this many days");
    expires->excludes(days);
    add->add_flag("--restrict", add_args.restrict, "Add the restrict option (no forwarding, no pty)");
    add->add_option("--command", add_args.command, "Force this command (command=\"...\")");
    add->add_option("--from", add_args.from, "Only from these hosts or networks (from=\"...\")");
    add->add_option("--option", add_args.options, "Any other authorized_keys option, as sshd writes it");
    add->add_option("keyfile", add_args.key_file, "The public key file, - for standard input")->required();

    bool list_all = false, list_json = false;
    auto* list = app.add_subcommand("list", "List the account's keys");
    add_where(list);
    list->add_flag("--all", list_all, "Include revoked keys");
    list->add_flag("--json", list_json, "Write JSON");

    std::vector<std::string> selector;
    auto* revoke = app.add_subcommand("revoke", "Revoke keys: move them to revoked/");
    add_where(revoke);
    revoke->add_option("selector", selector, "File name, fingerprint, or owner and device")->required();
    auto* reinstate = app.add_subcommand("reinstate", "Reinstate a revoked key");
    add_where(reinstate);
    reinstate->add_option("selector", selector, "File name, fingerprint, or owner and device")->required();

    auto* render = app.add_subcommand("render", "Write authorized_keys from the store");
    add_where(render);
    auto* check = app.add_subcommand("check", "Is authorized_keys what render would write? (exit 1 if not)");
    add_where(check);

    std::string import_file, import_owner;
    auto* import = app.add_subcommand("import", "Split an authorized_keys file into one file per key");
    add_where(import);
    import->add_option("--owner", import_owner, "Owner of keys whose comment is not an e-mail address");
    import->add_option("file", import_file, "File to import (default: the account's authorized_keys)");

    auto* prune = app.add_subcommand("prune", "Move expired keys to revoked/");
    add_where(prune);

    std::string keys_user, keys_fingerprint;
    auto* keys = app.add_subcommand("keys", "Print a user's active keys for sshd (AuthorizedKeysCommand)");
    keys->add_option("--config", where.config_path, "Configuration file (default /etc/keyward.conf if present)");
    keys->add_option("user", keys_user, "The user sshd asks about (%u)")->required();
    keys->add_option("fingerprint", keys_fingerprint, "Only the key with this fingerprint (%f)");

    keyward::app::TotpCommand totp(app);
    keyward::cli::RegisterKrlCommands(app);
    keyward::cli::RegisterCaCommands(app);

    CLI11_PARSE(app, argc, argv);
    using namespace keyward::cli;
    if (fingerprint->parsed()) return RunFingerprintCommand(fp_args, hash);
    if (lint->parsed()) return RunLintCommand(lint_args);
    if (init->parsed()) return Emit(RunInit(where));
    if (add->parsed()) return Emit(RunAdd(where, add_args));
    if (list->parsed()) return Emit(RunList(where, list_all, list_json));
    if (revoke->parsed()) return Emit(RunRevoke(where, selector, false));
    if (reinstate->parsed()) return Emit(RunRevoke(where, selector, true));
    if (render->parsed()) return Emit(RunRender(where));
    if (check->parsed()) return Emit(RunCheck(where));
    if (import->parsed()) return Emit(RunImport(where, import_file, import_owner));
    if (prune->parsed()) return Emit(RunPrune(where));
    if (keys->parsed()) return Emit(RunKeys(where, keys_user, keys_fingerprint));
    if (totp.parsed()) return totp.Run();
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keyward: %s\n", e.what());
    return 1;
  }
}
