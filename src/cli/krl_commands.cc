#include "cli/krl_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/terminal_text.h"
#include "config/config.h"
#include "fs/read_file.h"
#include "fs/safe_file.h"
#include "key/fingerprint.h"
#include "krl/check.h"
#include "krl/parse.h"
#include "krl/public_key_file.h"
#include "krl/publish.h"
#include "store/account.h"
#include "store/audit_log.h"
#include "store/store.h"
#include "wire/base64.h"

namespace keyward::cli {

namespace {

// A line as OpenSSH's log functions write it to standard error: characters
// outside printable ASCII (and the backslash) escaped as vis(3) does with
// VIS_SAFE | VIS_OCTAL, then CR LF.
std::string OpenSshLogLine(std::string_view message) {
  std::string out;
  for (char ch : message) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if ((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r' || c == '\b' || c == '\a') {
      out.push_back(ch);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    }
  }
  out += "\r\n";
  return out;
}

// What strerror() said, from a "path: reason" message of fs::ReadFileOrStdin.
std::string Reason(const Error& e, const std::string& path) {
  const std::string prefix = path + ": ";
  if (e.message.compare(0, prefix.size(), prefix) == 0) return e.message.substr(prefix.size());
  return e.message;
}

CommandOutput Failed(const std::string& message, int code = 1) {
  CommandOutput out;
  out.err = "keyward: " + message + "\n";
  out.exit_code = code;
  return out;
}

// Text from a KRL for the terminal: nothing that can move the cursor or
// break a line, the rest as OpenSSH prints comments.
std::string Safe(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && static_cast<unsigned char>(text[i]) >= 0x20 && text[i] != 0x7f) continue;
    AppendTerminalSafe(text.substr(start, i - start), out);
    if (i < text.size()) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned char>(text[i]));
      out += buf;
    }
    start = i + 1;
  }
  return out;
}

std::string Hex(ByteView data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto b : data) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string Plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string KeyDescription(ByteView blob) {
  auto key = key::ParsePublicKeyBlob(Bytes(blob.begin(), blob.end()));
  if (!key) return "a blob that is not a valid key (" + key.error().message + ")";
  return std::string(key->type_name()) + " " + key::Fingerprint(*key);
}

std::string Actor() {
  std::string who;
  if (auto a = store::CurrentAccount(); a && getuid() == geteuid()) {
    who = a->name;
  } else {
    who = "uid " + std::to_string(getuid());
  }
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && getuid() == 0) {
    if (store::ValidateUserName(sudo)) who += " (sudo by " + std::string(sudo) + ")";
  }
  return who;
}

Result<config::Config> LoadConfigFor(const std::string& config_path, const std::string& ca_dir) {
  const bool explicit_config = !config_path.empty();
  auto config = config::LoadConfig(explicit_config ? config_path : config::kDefaultConfigPath, explicit_config);
  if (!config) return Fail(config.error());
  if (!ca_dir.empty()) config->ca.dir = ca_dir;
  return config;
}

std::string DescribeBuild(const krl::PublishResult& r) {
  std::string out = "wrote " + r.path + " (KRL version " + std::to_string(r.version) + ", " +
                    Plural(r.bytes, "byte", "bytes") + "): " + Plural(r.serials, "serial", "serials") + " and " +
                    Plural(r.key_ids, "key ID", "key IDs") + " under " + Plural(r.cas, "CA", "CAs") + ", " +
                    Plural(r.explicit_keys, "key", "keys");
  if (r.sha1s != 0) out += ", " + Plural(r.sha1s, "SHA1 hash", "SHA1 hashes");
  if (r.sha256s != 0) out += ", " + Plural(r.sha256s, "SHA256 hash", "SHA256 hashes");
  out += "\n";
  out += "  from " + Plural(r.revocation_records, "revocation", "revocations") + " of the CA and " +
         Plural(r.account_keys, "revoked key", "revoked keys") + " in " + Plural(r.accounts, "account", "accounts");
  if (r.accounts_without_store != 0) {
    out += " (" + Plural(r.accounts_without_store, "account has", "accounts have") + " no key store)";
  }
  out += "\n";
  return out;
}

std::string Warnings(const std::vector<std::string>& warnings) {
  std::string out;
  for (const auto& w : warnings) out += "keyward: warning: " + Safe(w) + "\n";
  return out;
}

[[noreturn]] void Finish(const CommandOutput& output) {
  auto write_all = [](int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  };
  write_all(STDOUT_FILENO, output.out);
  write_all(STDERR_FILENO, output.err);
  throw CLI::RuntimeError(output.exit_code);
}

std::size_t StdoutBlock() {
  if (isatty(STDOUT_FILENO)) return 0;
  struct stat st {};
  if (fstat(STDOUT_FILENO, &st) == 0 && st.st_blksize > 0) return static_cast<std::size_t>(st.st_blksize);
  return BUFSIZ;
}

}  // namespace

// ------------------------------------------------------------------ check

CommandOutput RunKrlCheck(const KrlCheckRequest& request) {
  CommandOutput out;
  auto fatal = [&](const std::string& message) {
    // ssh-keygen's fatal() exits without flushing stdout: what stdio had
    // not written yet is lost.
    if (request.stdout_block != 0) out.out.resize(out.out.size() / request.stdout_block * request.stdout_block);
    out.err += OpenSshLogLine(message);
    out.exit_code = 255;
    return out;
  };
  auto data = fs::ReadFileOrStdin(request.krl);
  if (!data) return fatal("Unable to load KRL " + request.krl + ": " + Reason(data.error(), request.krl));
  krl::OpenSshRefusal refusal;
  auto krl = krl::ParseKrl(AsBytes(*data), &refusal);
  if (!krl) {
    for (const auto& line : refusal.log) out.err += OpenSshLogLine(line);
    return fatal("Invalid KRL file " + request.krl + ": " + refusal.reason);
  }
  bool any_revoked = false;
  for (const auto& path : request.keys) {
    auto loaded = krl::LoadPublicKeyFile(path);
    if (!loaded) {
      // ssh-keygen reports every failure to find a key as ENOENT.
      return fatal("Cannot load public key " + path + ": No such file or directory");
    }
    const bool revoked = krl::IsRevoked(*krl, loaded->found.key);
    const std::string& comment = loaded->found.comment.empty() ? loaded->from : loaded->found.comment;
    out.out += path + " (" + comment + "): " + (revoked ? "REVOKED" : "ok") + "\n";
    any_revoked = any_revoked || revoked;
  }
  out.exit_code = any_revoked ? 1 : 0;
  return out;
}

// ------------------------------------------------------------------- show

std::string FormatKrlListing(const krl::Krl& krl) {
  std::string out;
  out += "# KRL version " + std::to_string(krl.version) + "\n";
  out += "# Generated at " + store::FormatUtcTimestamp(static_cast<std::int64_t>(krl.generated_date)) + "\n";
  if (!krl.comment.empty()) out += "# Comment: " + Safe(krl.comment) + "\n";
  if (krl.flags != 0) out += "# Flags: " + std::to_string(krl.flags) + "\n";
  for (const auto& s : krl.signing_keys) out += "# Signed by " + KeyDescription(s) + " (signature verified)\n";
  std::size_t ids = 0;
  for (const auto& s : krl.certificates) ids += s.key_ids.size();
  out += "# Revokes " + Plural(krl.serial_count(), "serial", "serials") + " and " +
         Plural(ids, "key ID", "key IDs") + " under " + Plural(krl.certificates.size(), "CA", "CAs") + ", " +
         Plural(krl.explicit_keys.size(), "key", "keys") + ", " +
         Plural(krl.sha1s.size(), "SHA1 hash", "SHA1 hashes") + ", " +
         Plural(krl.sha256s.size(), "SHA256 hash", "SHA256 hashes") + "\n";
  for (const auto& s : krl.certificates) {
    out += "\n";
    out += s.wildcard() ? "# Certificates of any CA\n" : "# CA key " + KeyDescription(s.ca_key) + "\n";
    for (const auto& r : s.serials) {
      out += "serial: " + std::to_string(r.first);
      if (r.last != r.first) out += "-" + std::to_string(r.last);
      out += "\n";
    }
    for (const auto& id : s.key_ids) out += "id: " + Safe(id) + "\n";
  }
  if (!krl.explicit_keys.empty()) {
    out += "\n# Keys\n";
    for (const auto& blob : krl.explicit_keys) {
      auto key = key::ParsePublicKeyBlob(Bytes(blob.begin(), blob.end()));
      if (key) {
        out += "key: " + key->ToText() + " # " + key::Fingerprint(*key) + "\n";
      } else {
        out += "# a blob of " + std::to_string(blob.size()) + " bytes that is not a valid key (" +
               Safe(key.error().message) + "): " + Hex(ByteView(blob).first(std::min<std::size_t>(blob.size(), 64))) +
               (blob.size() > 64 ? "..." : "") + "\n";
      }
    }
  }
  if (!krl.sha256s.empty()) {
    out += "\n# Keys by SHA256 fingerprint\n";
    for (const auto& d : krl.sha256s) {
      out += "hash: SHA256:";
      wire::AppendBase64Unpadded(d, out);
      out += "\n";
    }
  }
  if (!krl.sha1s.empty()) {
    out += "\n# Keys by SHA1 hash (a spec file has no directive for these)\n";
    for (const auto& d : krl.sha1s) out += "# sha1: " + Hex(d) + "\n";
  }
  return out;
}

CommandOutput RunKrlShow(const std::string& krl_path) {
  auto data = fs::ReadFileOrStdin(krl_path);
  if (!data) return Failed("cannot read the KRL: " + data.error().message);
  auto krl = krl::ParseKrl(AsBytes(*data));
  if (!krl) return Failed(krl_path + " is not a valid KRL: " + krl.error().message);
  CommandOutput out;
  out.out = FormatKrlListing(*krl);
  return out;
}

// ------------------------------------------------------------------ build

CommandOutput RunKrlBuild(const KrlBuildRequest& request) {
  auto config = LoadConfigFor(request.config_path, request.ca_dir);
  if (!config) return Failed(config.error().message);
  krl::PublishOptions o;
  o.config = std::move(*config);
  o.out = request.out;
  o.spec_files = request.specs;
  o.spec_ca = request.spec_ca;
  o.accounts = !request.no_accounts;
  o.now = request.now;
  auto result = krl::BuildAndWriteKrl(o);
  if (!result) return Failed(result.error().message);
  CommandOutput out;
  out.out = DescribeBuild(*result);
  out.err = Warnings(result->warnings);
  return out;
}

// ------------------------------------------------------------- ca revoke

bool ParseSerialArgument(const std::string& text, std::uint64_t& first, std::uint64_t& last) {
  auto number = [](std::string_view s, std::uint64_t& v) {
    if (s.empty() || s.size() > 20) return false;
    v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
    return true;
  };
  std::string_view t = text;
  std::size_t dash = t.find('-');
  if (dash == std::string_view::npos) {
    if (!number(t, first)) return false;
    last = first;
  } else if (!number(t.substr(0, dash), first) || !number(t.substr(dash + 1), last)) {
    return false;
  }
  return first != 0 && first <= last;
}

namespace {

bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

// The keys of a --key file, as ssh-keygen -k reads a key file: every line
// that is not blank or a comment must be a key.
Result<std::vector<key::PublicKey>> KeysInFile(const std::string& path) {
  auto text = fs::ReadFileOrStdin(path);
  if (!text) return Fail(text.error());
  if (krl::LooksLikePrivateKey(*text)) {
    return Fail("private_key", path + " is a private key; give the public key (.pub) or certificate instead");
  }
  std::vector<key::PublicKey> keys;
  std::string_view rest = *text;
  for (std::size_t number = 1; !rest.empty(); ++number) {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    std::size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos || line[start] == '#') continue;
    auto read = key::ReadKeyText(line.substr(start));
    if (!read) return Fail(read.error().code, path + ":" + std::to_string(number) + ": " + read.error().message);
    keys.push_back(std::move(read->key));
  }
  if (keys.empty()) return Fail("no_key", path + " holds no public key");
  return keys;
}

void Audit(const config::Config& config, const std::vector<krl::Revocation>& records,
           const std::vector<std::string>& descriptions, const std::vector<std::string>& fingerprints,
           std::string& warnings) {
  auto [dir, file] = store::SplitPath(config.audit_log);
  auto fd = fs::OpenDirectory(dir.empty() ? "/" : dir, fs::Ownership{geteuid()}, "the folder of the audit log");
  if (!fd) {
    warnings += "keyward: warning: the revocations are recorded, but not in the audit log: " + fd.error().message + "\n";
    return;
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    store::AuditRecord a;
    a.time = records[i].time;
    a.who = records[i].who;
    a.action = "ca-revoke";
    a.file = descriptions[i];
    a.fingerprint = fingerprints[i];
    if (auto ok = store::AppendAuditRecord(fd->get(), file, a); !ok) {
      warnings += "keyward: warning: the revocations are recorded, but not in the audit log: " + ok.error().message + "\n";
      return;
    }
  }
}

}  // namespace

CommandOutput RunCaRevoke(const CaRevokeRequest& request) {
  if (request.serials.empty() && request.key_ids.empty() && request.key_files.empty()) {
    return Failed("say what to revoke: --serial N, --serial A-B, --key-id ID or --key FILE", 2);
  }
  auto config = LoadConfigFor(request.config_path, request.ca_dir);
  if (!config) return Failed(config.error().message);
  const std::int64_t now = request.now != 0 ? request.now : static_cast<std::int64_t>(std::time(nullptr));
  const std::string who = Actor();
  const char* ca_name = request.host ? "host" : "user";

  std::vector<krl::Revocation> records;
  std::vector<std::string> descriptions, fingerprints;
  std::string ca_text, ca_fingerprint;
  if (!request.serials.empty() || !request.key_ids.empty()) {
    const std::string ca_path = config->ca.dir + (request.host ? "/host_ca.pub" : "/user_ca.pub");
    auto ca = krl::LoadPublicKeyFile(ca_path);
    if (!ca) {
      return Failed("cannot read the " + std::string(ca_name) + " CA's public key " + ca_path + " (" +
                    ca.error().message + "); create the CA first (keyward ca init)");
    }
    if (ca->found.key.is_certificate()) return Failed(ca_path + " is a certificate, not a CA key");
    ca_text = ca->found.key.ToText();
    ca_fingerprint = key::Fingerprint(ca->found.key);
  }
  for (const auto& s : request.serials) {
    krl::Revocation r;
    if (!ParseSerialArgument(s, r.first, r.last)) {
      return Failed("--serial " + Safe(s) + ": give a serial N or a range A-B of decimal serials, 1 or more", 2);
    }
    r.kind = krl::Revocation::Kind::kSerials;
    r.time = now;
    r.who = who;
    r.ca = ca_text;
    records.push_back(r);
    descriptions.push_back((r.first == r.last ? "serial " + std::to_string(r.first)
                                              : "serials " + std::to_string(r.first) + "-" + std::to_string(r.last)) +
                           " of the " + ca_name + " CA");
    fingerprints.push_back(ca_fingerprint);
  }
  for (const auto& id : request.key_ids) {
    if (id.empty() || id.find('\0') != std::string::npos || !ValidUtf8(id)) {
      return Failed("--key-id: give the certificate's key ID (not empty, UTF-8 text); revoke others by --serial", 2);
    }
    krl::Revocation r;
    r.kind = krl::Revocation::Kind::kKeyId;
    r.time = now;
    r.who = who;
    r.ca = ca_text;
    r.key_id = id;
    records.push_back(r);
    descriptions.push_back("key ID \"" + id + "\" of the " + std::string(ca_name) + " CA");
    fingerprints.push_back(ca_fingerprint);
  }
  for (const auto& file : request.key_files) {
    auto keys = KeysInFile(file);
    if (!keys) return Failed("--key " + keys.error().message);
    for (const auto& k : *keys) {
      krl::Revocation r;
      r.kind = krl::Revocation::Kind::kKey;
      r.time = now;
      r.who = who;
      r.key = k.ToText();
      records.push_back(r);
      const key::Certificate* cert = k.certificate();
      descriptions.push_back(cert == nullptr ? "key " + std::string(k.type_name())
                                             : "certificate with serial " + std::to_string(cert->serial) +
                                                   " and key ID \"" + cert->key_id + "\"");
      fingerprints.push_back(key::Fingerprint(k));
    }
  }

  krl::PublishOptions o;
  o.config = *config;
  o.out = request.out;
  o.now = now;
  bool recorded = false;
  auto result = krl::RevokeAndRebuild(o, records, &recorded);
  CommandOutput out;
  if (recorded) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      out.out += "revoked " + Safe(descriptions[i]) + (fingerprints[i].empty() ? "" : " (" + fingerprints[i] + ")") + "\n";
    }
    Audit(*config, records, descriptions, fingerprints, out.err);
  }
  if (!result) {
    out.err += "keyward: " + result.error().message + "\n";
    if (recorded) {
      out.err += "keyward: the revocations are recorded, but the KRL was not rebuilt; once the problem is fixed, run "
                 "`keyward krl build`\n";
    }
    out.exit_code = 1;
    return out;
  }
  out.out += DescribeBuild(*result);
  out.err += Warnings(result->warnings);
  return out;
}

// ------------------------------------------------------------ registration

void RegisterKrlCommands(CLI::App& app) {
  auto* krl = app.add_subcommand("krl", "OpenSSH key revocation lists (sshd's RevokedKeys)");
  krl->require_subcommand(1);

  auto build_req = std::make_shared<KrlBuildRequest>();
  auto* build = krl->add_subcommand(
      "build", "Write the KRL: the CA's revocations, every account's revoked/ keys and spec files; atomically, "
               "with the next version");
  build->add_option("--config", build_req->config_path, "Configuration file (default /etc/keyward.conf if present)");
  build->add_option("--ca-dir", build_req->ca_dir, "The CA folder (default: the configuration's ca.dir)");
  build->add_option("--out", build_req->out, "The KRL to write (default: the configuration's ca.krl)");
  build->add_option("--spec", build_req->specs, "An ssh-keygen -k KRL specification file (repeatable)");
  build->add_option("--ca", build_req->spec_ca, "CA public key for the spec files' serial: and id: lines, or none");
  build->add_flag("--no-accounts", build_req->no_accounts, "Leave out the accounts' revoked/ keys");
  build->callback([build_req] { Finish(RunKrlBuild(*build_req)); });

  auto check_req = std::make_shared<KrlCheckRequest>();
  auto* check = krl->add_subcommand("check", "Is each key revoked? Output and exit status as ssh-keygen -Q -f KRL KEY...");
  check->add_option("krl", check_req->krl, "The KRL")->required();
  check->add_option("keys", check_req->keys, "Public key or certificate files");
  check->callback([check_req] {
    check_req->stdout_block = StdoutBlock();
    Finish(RunKrlCheck(*check_req));
  });

  auto show_path = std::make_shared<std::string>();
  auto* show = krl->add_subcommand("show", "List what a KRL revokes");
  show->add_option("krl", *show_path, "The KRL")->required();
  show->callback([show_path] { Finish(RunKrlShow(*show_path)); });
}

void RegisterCaRevokeCommand(CLI::App& ca_group) {
  auto req = std::make_shared<CaRevokeRequest>();
  auto* revoke = ca_group.add_subcommand(
      "revoke", "Revoke certificates (by serial or key ID) or keys, record it, and rebuild the KRL");
  revoke->add_flag("--host", req->host, "Certificates of the host CA (default: the user CA)");
  revoke->add_option("--serial", req->serials, "A serial N or a range A-B (repeatable)");
  revoke->add_option("--key-id", req->key_ids, "A certificate key ID (repeatable)");
  revoke->add_option("--key", req->key_files, "A public key or certificate file (repeatable)");
  revoke->add_option("--config", req->config_path, "Configuration file (default /etc/keyward.conf if present)");
  revoke->add_option("--ca-dir", req->ca_dir, "The CA folder (default: the configuration's ca.dir)");
  revoke->add_option("--out", req->out, "The KRL to write (default: the configuration's ca.krl)");
  revoke->callback([req] { Finish(RunCaRevoke(*req)); });
}

}  // namespace keyward::cli
