// keyward: the command line. Thin: parse arguments, read input, call the
// library, write what it returns.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/fingerprint.h"
#include "cli/lint.h"
#include "cli/terminal_text.h"
#include "fs/read_file.h"

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

}  // namespace

int main(int argc, char** argv) {
  try {
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

    CLI11_PARSE(app, argc, argv);
    if (fingerprint->parsed()) return RunFingerprintCommand(fp_args, hash);
    if (lint->parsed()) return RunLintCommand(lint_args);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "keyward: %s\n", e.what());
    return 1;
  }
}
