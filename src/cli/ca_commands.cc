#include "cli/ca_commands.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ca/ca_store.h"
#include "ca/cert_text.h"
#include "ca/certificate.h"
#include "ca/issuer.h"
#include "ca/private_key_file.h"
#include "ca/roles.h"
#include "ca/validity.h"
#include "cli/krl_commands.h"
#include "config/config.h"
#include "fs/read_file.h"
#include "fs/safe_file.h"
#include "key/fingerprint.h"
#include "key/public_key.h"


namespace keyward::cli {
namespace {

constexpr std::size_t kMaxPublicKeyFileBytes = 1 << 20;

CommandOutput Failed(const std::string& message, int code = 1) {
  CommandOutput out;
  out.err = "keyward: " + message + "\n";
  out.exit_code = code;
  return out;
}

std::int64_t Now(std::int64_t given) { return given != 0 ? given : static_cast<std::int64_t>(std::time(nullptr)); }

Result<config::Config> LoadCaConfig(const CaWhere& where) {
  const bool given = !where.config_path.empty();
  auto config = config::LoadConfig(given ? where.config_path : config::kDefaultConfigPath, given);
  if (!config) return config;
  if (!where.ca_dir.empty()) config->ca.dir = where.ca_dir;
  return config;
}

std::string CallingUser() {
  struct passwd* pw = getpwuid(getuid());
  return pw != nullptr ? pw->pw_name : "uid " + std::to_string(getuid());
}

std::string RequestedBy() {
  std::string who = CallingUser();
  const char* sudo_user = std::getenv("SUDO_USER");
  if (getuid() == 0 && sudo_user != nullptr && ca::ValidateAccountName(sudo_user)) {
    who += " (sudo from " + std::string(sudo_user) + ")";
  }
  return who;
}

// The address of the ssh connection the command runs in, if any.
std::string ClientAddress() {
  const char* connection = std::getenv("SSH_CONNECTION");
  if (connection == nullptr) return "local";
  std::string_view s(connection);
  s = s.substr(0, s.find(' '));
  if (s.empty() || s.size() > 45) return "local";
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != ':') return "local";
  }
  return std::string(s);
}

Result<std::optional<ca::Secret>> ReadPassphrase(const std::string& file) {
  if (file.empty()) return std::optional<ca::Secret>{};
  auto text = fs::ReadFileOrStdin(file);
  if (!text) return Fail(text.error());
  ca::Secret owned(std::move(*text));
  std::string_view v = owned.view();
  if (v.ends_with('\n')) v.remove_suffix(1);
  if (v.ends_with('\r')) v.remove_suffix(1);
  if (v.empty()) return Fail("bad_passphrase", "the passphrase file " + file + " is empty");
  if (v.size() > ca::kMaxPassphraseBytes) {
    return Fail("bad_passphrase", "the passphrase is longer than " + std::to_string(ca::kMaxPassphraseBytes) + " bytes");
  }
  if (v.find('\0') != std::string_view::npos || v.find('\n') != std::string_view::npos) {
    return Fail("bad_passphrase", "the passphrase file must hold one line");
  }
  return std::optional<ca::Secret>(ca::Secret(std::string(v)));
}

// ------------------------------------------------------------------ init

std::string InitInstructions(key::CertType type, const std::string& dir, const ca::CreatedCaKey& created,
                             bool encrypted) {
  const std::string name = ca::CaKeyFileName(type);
  const std::string key_path = dir + "/" + name;
  const std::string pub_path = key_path + ".pub";
  std::string s;
  s += "Created the " + std::string(type == key::CertType::kHost ? "host" : "user") + " CA key " + key_path + " (" +
       created.key_type + " " + created.fingerprint + (encrypted ? ", protected by the passphrase" : "") +
       ") and its public key " + pub_path + ".\n";
  if (type == key::CertType::kUser) {
    s += "\nTo let sshd accept the user certificates it signs, add this line to /etc/ssh/sshd_config\n"
         "(on other servers, copy " + pub_path + " there first and give that path):\n\n"
         "    TrustedUserCAKeys " + pub_path + "\n";
  } else {
    std::string line = created.public_line;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    s += "\nTo let ssh clients accept the host certificates it signs, add this line to\n"
         "~/.ssh/known_hosts or /etc/ssh/ssh_known_hosts (it replaces the hosts' own lines):\n\n"
         "    @cert-authority * " + line + "\n"
         "\nThen sign each server's host key, e.g.\n"
         "    keyward ca sign --host -n host.example.com -V +52w /etc/ssh/ssh_host_ed25519_key.pub\n"
         "and add to its sshd_config:\n"
         "    HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub\n";
  }
  s += "\nSign by hand at any time with ssh-keygen -s " + key_path + " ...\n";
  return s;
}

// ------------------------------------------------------------------ sign

struct SignOptions {
  std::string force_command;
  std::string source_address;
  bool verify_required = false;
  std::vector<std::string> extensions;
};

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The -O options ssh-keygen knows, limited to what OpenSSH defines (no
// custom critical options or extensions). Extensions start from none.
Result<SignOptions> ParseSignOptions(const std::vector<std::string>& options) {
  SignOptions o;
  auto add = [&o](std::string_view name) {
    for (const char* known : config::kCertificateExtensions) {
      if (EqualsNoCase(name, known)) {
        if (std::find(o.extensions.begin(), o.extensions.end(), known) == o.extensions.end()) {
          o.extensions.emplace_back(known);
        }
        return true;
      }
    }
    return false;
  };
  auto remove = [&o](std::string_view name) {
    o.extensions.erase(std::remove(o.extensions.begin(), o.extensions.end(), std::string(name)), o.extensions.end());
  };
  for (const std::string& opt : options) {
    std::string_view v = opt;
    if (EqualsNoCase(v, "clear")) {
      o.extensions.clear();
    } else if (v.starts_with("force-command=")) {
      if (!o.force_command.empty()) return Fail("bad_option", "force-command is given twice");
      o.force_command = v.substr(14);
      if (o.force_command.empty()) return Fail("bad_option", "force-command= needs a command");
    } else if (v.starts_with("source-address=")) {
      if (!o.source_address.empty()) return Fail("bad_option", "source-address is given twice");
      o.source_address = v.substr(15);
      if (o.source_address.empty()) return Fail("bad_option", "source-address= needs a list of networks");
    } else if (EqualsNoCase(v, "verify-required")) {
      o.verify_required = true;
    } else if (v.starts_with("extension:")) {
      std::string_view name = v.substr(10);
      if (name.find('=') != std::string_view::npos) {
        return Fail("bad_option", "keyward signs extensions without data only (the ones OpenSSH defines)");
      }
      if (!add(name)) return Fail("unknown_extension", "unknown extension \"" + std::string(name) + "\"");
    } else if (v.starts_with("critical:")) {
      return Fail("bad_option", "keyward signs only the critical options OpenSSH defines: force-command=, "
                                "source-address=, verify-required");
    } else if (EqualsNoCase(v, "no-x11-forwarding")) {
      remove("permit-X11-forwarding");
    } else if (EqualsNoCase(v, "no-agent-forwarding")) {
      remove("permit-agent-forwarding");
    } else if (EqualsNoCase(v, "no-port-forwarding")) {
      remove("permit-port-forwarding");
    } else if (EqualsNoCase(v, "no-pty")) {
      remove("permit-pty");
    } else if (EqualsNoCase(v, "no-user-rc")) {
      remove("permit-user-rc");
    } else if (!add(v)) {
      std::string shown;
      for (char c : v.substr(0, 64)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
      return Fail("bad_option", "unknown certificate option \"" + shown +
                                    "\"; see ssh-keygen(1) -O: clear, force-command=, source-address=, "
                                    "verify-required, permit-pty, permit-X11-forwarding, permit-agent-forwarding, "
                                    "permit-port-forwarding, permit-user-rc, no-touch-required, no-...");
    }
  }
  return o;
}

struct SubjectFile {
  std::string path;
  key::PublicKey key;
  std::string comment;
};

Result<SubjectFile> ReadSubject(const std::string& path) {
  if (path == "-") return Fail("bad_input", "give public key files by name (the certificate is written beside them)");
  auto content = fs::ReadFileOrStdin(path);
  if (!content) return Fail(content.error());
  if (content->size() > kMaxPublicKeyFileBytes) return Fail("bad_input", path + " is too large for a public key file");
  if (ca::LooksLikePrivateKey(*content)) {
    return Fail("private_key", path + ": that is a private key; give the .pub file" +
                                   (path.ends_with(".pub") ? std::string() : " (" + path + ".pub)"));
  }
  std::string_view text = *content;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos || line[start] == '#') continue;
    line.remove_prefix(start);
    auto parsed = key::ReadKeyText(line);
    if (!parsed) return Fail(parsed.error().code, path + ": " + parsed.error().message);
    if (parsed->key.is_certificate()) {
      return Fail("certificate_as_subject", path + ": that is already a certificate; sign the plain public key");
    }
    SubjectFile s;
    s.path = path;
    s.key = std::move(parsed->key);
    s.comment = std::string(line.substr(std::min(parsed->comment_offset, line.size())));
    return s;
  }
  return Fail("bad_input", path + ": no public key in the file");
}

// Writes `content` to `path` as ssh-keygen writes -cert.pub files: in
// place (an existing file keeps its inode and mode; a new one is 0644), not
// atomically; issued.log, synced before, is the durable record. Safe where
// root writes into a folder a user controls: the last component is never
// followed if it is a symlink, a FIFO does not block, and anything but a
// regular file with one link (a hard link to /etc/shadow, say) is refused
// before a byte is written. In place rather than by rename, because on ext4
// every new inode and every truncation to zero costs about 0.1 ms of
// kernel time, which for 1,000 certificates is more than signing them.
class CertificateWriter {
 public:
  Result<void> Write(const std::string& path, std::string_view content) {
    std::size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    auto dirfd = Directory(dir);
    if (!dirfd) return Fail(dirfd.error());
    const int flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    int fd = openat(*dirfd, name.c_str(), flags);
    if (fd < 0 && errno == ENOENT) fd = openat(*dirfd, name.c_str(), flags | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
      int err = errno;
      if (err == ELOOP) return Fail("write_failed", "cannot write " + path + ": it is a symbolic link");
      return Fail("write_failed", "cannot write " + path + ": " + std::strerror(err));
    }
    fs::UniqueFd file(fd);
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
      return Fail("write_failed", "cannot write " + path + ": it is not a regular file with one link");
    }
    for (std::size_t done = 0; done < content.size();) {
      ssize_t n = pwrite(fd, content.data() + done, content.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail("write_failed", "cannot write " + path + ": " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
    if (static_cast<std::uint64_t>(st.st_size) > content.size() &&
        ftruncate(fd, static_cast<off_t>(content.size())) != 0) {
      return Fail("write_failed", "cannot write " + path + ": " + std::strerror(errno));
    }
    return {};
  }

 private:
  Result<int> Directory(const std::string& dir) {
    auto it = dirs_.find(dir);
    if (it != dirs_.end()) return it->second.get();
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Fail("write_failed", "cannot open the folder " + dir + ": " + std::strerror(errno));
    return dirs_.emplace(dir, fs::UniqueFd(fd)).first->second.get();
  }

  std::map<std::string, fs::UniqueFd> dirs_;
};

std::string JoinPrincipals(const std::vector<std::string>& principals) {
  std::string s;
  for (const auto& p : principals) s += (s.empty() ? "" : ",") + p;
  return s;
}

std::string RoleNames(const config::CaConfig& ca) {
  std::string names;
  for (const auto& r : ca.roles) names += (names.empty() ? "" : ", ") + r.name;
  return names.empty() ? "none (see \"ca\": {\"roles\": ...} in the configuration)" : names;
}

// --------------------------------------------------------------- inspect

// ssh-keygen's name for why a line is not a key, roughly.
std::string InvalidKeyReason(const Error& e) {
  if (e.code == "bad_signature") return "signature verification failed";
  if (e.code == "unknown_key_type") return "unknown or unsupported key type";
  return "invalid format";
}

// ------------------------------------------------------------------ list

std::string UtcTime(std::uint64_t t) {
  if (t == ca::kForever) return "forever";
  std::time_t tt = static_cast<std::time_t>(std::min<std::uint64_t>(t, 253402300799ULL));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

template <typename Request>
void RunAndExit(const Request& request, CommandOutput (*run)(const Request&)) {
  CommandOutput out = run(request);
  std::fwrite(out.out.data(), 1, out.out.size(), stdout);
  std::fflush(stdout);
  std::fwrite(out.err.data(), 1, out.err.size(), stderr);
  std::fflush(stderr);
  throw CLI::RuntimeError(out.exit_code);
}

void AddWhere(CLI::App* sub, CaWhere& where) {
  sub->add_option("--config", where.config_path, "Configuration file (default /etc/keyward.conf if present)");
  sub->add_option("--ca-dir", where.ca_dir, "The CA folder (default: ca.dir in the configuration)");
}

}  // namespace

std::string CertificatePathFor(std::string_view key_file) {
  std::string base(key_file);
  if (base.ends_with(".pub")) base.resize(base.size() - 4);
  return base + "-cert.pub";
}

CommandOutput RunCaInit(const CaInitRequest& request) {
  auto config = LoadCaConfig(request.where);
  if (!config) return Failed(config.error().message);
  auto spec = ca::ParseCaKeySpec(request.type, request.bits);
  if (!spec) return Failed(spec.error().message, 2);
  auto passphrase = ReadPassphrase(request.passphrase_file);
  if (!passphrase) return Failed(passphrase.error().message);
  auto dir = ca::OpenCaDirectory(config->ca.dir, true);
  if (!dir) return Failed(dir.error().message);
  const key::CertType type = request.host ? key::CertType::kHost : key::CertType::kUser;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  std::string comment = std::string("keyward-") + (request.host ? "host" : "user") + "-ca@" + host;
  const ca::Secret* pass = *passphrase ? &**passphrase : nullptr;
  auto created = ca::CreateCaKey(dir->get(), type, *spec, pass, comment);
  if (!created) return Failed(created.error().message);
  std::string clean_dir = config->ca.dir;
  while (clean_dir.size() > 1 && clean_dir.back() == '/') clean_dir.pop_back();
  CommandOutput out;
  out.out = InitInstructions(type, clean_dir, *created, pass != nullptr);
  return out;
}

CommandOutput RunCaSign(const CaSignRequest& request) {
  const std::int64_t now = Now(request.now);
  auto config = LoadCaConfig(request.where);
  if (!config) return Failed(config.error().message);
  if (request.key_files.empty()) return Failed("give the public key files to sign", 2);
  const key::CertType type = request.host ? key::CertType::kHost : key::CertType::kUser;

  // Everything is checked before the CA key is even read.
  std::optional<ca::Validity> validity;
  if (!request.validity.empty()) {
    auto v = ca::ParseValidity(request.validity, now, config->ca.backdate);
    if (!v) return Failed(v.error().message);
    validity = *v;
  }
  std::vector<SubjectFile> subjects;
  subjects.reserve(request.key_files.size());
  for (const auto& file : request.key_files) {
    auto s = ReadSubject(file);
    if (!s) return Failed(s.error().message + "; nothing was signed");
    subjects.push_back(std::move(*s));
  }

  std::vector<ca::CertificateRequest> requests;
  requests.reserve(subjects.size());
  ca::IssueContext context;
  context.now = now;
  context.requested_by = request.requested_by.empty() ? RequestedBy() : request.requested_by;
  context.client = request.client.empty() ? ClientAddress() : request.client;

  if (!request.role.empty()) {
    if (request.host) return Failed("roles are for user certificates; sign host keys without --role", 2);
    if (!request.principals.empty() || !request.options.empty() || !request.key_id.empty()) {
      return Failed("with --role, the role sets the principals, options and key id; leave out -n, -O and -I", 2);
    }
    const config::RoleConfig* role = ca::FindRole(config->ca, request.role);
    if (role == nullptr) {
      return Failed("unknown role \"" + request.role + "\"; the configured roles are: " + RoleNames(config->ca) +
                    "; nothing was signed");
    }
    ca::RoleRequest rr;
    rr.account = request.account.empty() ? CallingUser() : request.account;
    if (auto ok = ca::ValidateAccountName(rr.account); !ok) return Failed(ok.error().message + "; nothing was signed");
    rr.groups = ca::GroupsOfSystemAccount(rr.account);
    rr.validity = validity;
    rr.now = now;
    rr.backdate = config->ca.backdate;
    for (const auto& s : subjects) {
      auto r = ca::RequestForRole(*role, rr, s.key);
      if (!r) return Failed(s.path + ": " + r.error().message + "; nothing was signed");
      requests.push_back(std::move(*r));
    }
    context.role = role->name;
    context.account = rr.account;
  } else {
    if (request.principals.empty()) {
      return Failed("give the principals with -n (user or host names, comma-separated), or a --role", 2);
    }
    if (!validity) return Failed("give the validity with -V (e.g. -V +7d), or a --role; a certificate must end", 2);
    auto principals = ca::ParsePrincipalList(request.principals);
    if (!principals) return Failed(principals.error().message + "; nothing was signed");
    auto options = ParseSignOptions(request.options);
    if (!options) return Failed(options.error().message + "; nothing was signed");
    if (!request.account.empty()) {
      if (auto ok = ca::ValidateAccountName(request.account); !ok) return Failed(ok.error().message);
      context.account = request.account;
    }
    for (const auto& s : subjects) {
      ca::CertificateRequest r;
      r.subject = s.key;
      r.type = type;
      r.key_id = request.key_id;
      r.principals = *principals;
      r.valid_after = validity->valid_after;
      r.valid_before = validity->valid_before;
      r.force_command = options->force_command;
      r.source_address = options->source_address;
      r.verify_required = options->verify_required;
      r.extensions = options->extensions;
      ca::CertificateRequest checked = r;
      checked.serial = 1;  // assigned at issue
      if (auto ok = ca::CheckCertificateRequest(checked); !ok) {
        return Failed(s.path + ": " + ok.error().message + "; nothing was signed");
      }
      requests.push_back(std::move(r));
    }
  }

  // Where the certificates go must take them, before any is signed.
  for (const auto& s : subjects) {
    const std::string path = CertificatePathFor(s.path);
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && (!S_ISREG(st.st_mode) || st.st_nlink != 1)) {
      return Failed(path + " is not a regular file with one link (a symlink?); keyward will not write the "
                    "certificate there; nothing was signed");
    }
    std::size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (access(dir.c_str(), W_OK) != 0) {
      return Failed("cannot write certificates into " + dir + ": " + std::strerror(errno) + "; nothing was signed");
    }
  }

  auto passphrase = ReadPassphrase(request.passphrase_file);
  if (!passphrase) return Failed(passphrase.error().message);
  auto opened = ca::OpenCa(config->ca.dir, type, *passphrase ? &**passphrase : nullptr);
  if (!opened) return Failed(opened.error().message + "; nothing was signed");
  auto issued = ca::IssueCertificates(opened->dir.get(), opened->signer, std::move(requests), context);
  if (!issued) return Failed(issued.error().message);

  CommandOutput out;
  CertificateWriter writer;
  for (std::size_t i = 0; i < issued->size(); ++i) {
    const auto& cert = (*issued)[i];
    const std::string path = CertificatePathFor(subjects[i].path);
    std::string line = ca::CertificateLine(subjects[i].key, cert.blob, subjects[i].comment);
    if (auto ok = writer.Write(path, line); !ok) {
      out.err += "keyward: " + ok.error().message + " (the certificate, serial " + std::to_string(cert.record.serial) +
                 ", is recorded in issued.log)\n";
      out.exit_code = 1;
      continue;
    }
    if (!request.quiet) {
      const auto& r = cert.record;
      out.err += std::string("Signed ") + (r.type == key::CertType::kHost ? "host" : "user") + " key " + path +
                 ": id \"" + r.key_id + "\" serial " + std::to_string(r.serial) + " for " +
                 JoinPrincipals(r.principals) + " valid " + ca::FormatValidity(r.valid_after, r.valid_before) + "\n";
    }
  }
  return out;
}

CommandOutput InspectCertificates(std::string_view content, std::string_view display_name, bool from_stdin) {
  CommandOutput out;
  const std::string path = from_stdin ? "(stdin)" : std::string(display_name);
  bool any = false;
  std::size_t lnum = 0;
  std::string_view text = content;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++lnum;
    std::size_t start = line.find_first_not_of(" \t");
    // ssh-keygen skips comments and lines that end without a newline
    // before anything; an empty line (just a newline) is a bad key.
    if (start != std::string_view::npos && line[start] == '#') continue;
    if (start == std::string_view::npos && nl == std::string_view::npos) continue;
    std::string_view rest = start == std::string_view::npos ? std::string_view() : line.substr(start);
    auto parsed = key::ReadKeyText(rest);
    if (!parsed) {
      out.err += path + ":" + std::to_string(lnum) + ": invalid key: " + InvalidKeyReason(parsed.error()) + "\n";
      continue;
    }
    if (!parsed->key.is_certificate()) {
      out.err += path + ":" + std::to_string(lnum) + " is not a certificate\n";
      continue;
    }
    any = true;
    out.out += (!from_stdin && lnum == 1) ? path + ":\n" : path + ":" + std::to_string(lnum) + ":\n";
    if (auto ok = ca::AppendCertificateDetails(parsed->key, out.out); !ok) {
      out.err += "keyward: " + ok.error().message + "\n";
      out.exit_code = 255;
      return out;
    }
  }
  out.exit_code = any ? 0 : 1;
  return out;
}

CommandOutput RunCaInspect(const std::string& file) {
  auto content = fs::ReadFileOrStdin(file);
  if (!content) return Failed(content.error().message, 255);
  return InspectCertificates(*content, file, file == "-");
}

CommandOutput RunCaList(const CaListRequest& request) {
  auto config = LoadCaConfig(request.where);
  if (!config) return Failed(config.error().message);
  auto dir = ca::OpenCaDirectory(config->ca.dir, false);
  if (!dir) return Failed(dir.error().message);
  auto log = ca::ReadIssuanceLog(dir->get());
  if (!log) return Failed(log.error().message);
  CommandOutput out;
  std::vector<const ca::IssuanceRecord*> shown;
  for (const auto& r : log->records) {
    if (request.account.empty() || r.account == request.account) shown.push_back(&r);
  }
  if (request.json) {
    out.out = "[";
    for (std::size_t i = 0; i < shown.size(); ++i) {
      std::string line = ca::FormatIssuanceRecord(*shown[i]);
      line.pop_back();
      out.out += (i ? ",\n " : "\n ") + line;
    }
    out.out += shown.empty() ? "]\n" : "\n]\n";
  } else {
    std::vector<std::vector<std::string>> rows = {
        {"SERIAL", "TYPE", "KEY ID", "PRINCIPALS", "VALID AFTER", "VALID BEFORE", "FINGERPRINT", "REQUESTED BY",
         "CLIENT", "SIGNED"}};
    for (const auto* r : shown) {
      rows.push_back({std::to_string(r->serial), r->type == key::CertType::kHost ? "host" : "user", r->key_id,
                      JoinPrincipals(r->principals), r->valid_after == 0 ? "always" : UtcTime(r->valid_after),
                      UtcTime(r->valid_before), r->fingerprint, r->requested_by, r->client,
                      UtcTime(static_cast<std::uint64_t>(r->time))});
    }
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& row : rows) {
      for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    for (const auto& row : rows) {
      std::string line;
      for (std::size_t c = 0; c < row.size(); ++c) {
        line += row[c];
        if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
      }
      out.out += line + "\n";
    }
  }
  if (log->bad_lines != 0) {
    out.err = "keyward: warning: " + std::to_string(log->bad_lines) +
              " line(s) of issued.log do not parse (a record torn by a crash?)\n";
  }
  return out;
}

void RegisterCaCommands(CLI::App& app) {
  auto* group = app.add_subcommand("ca", "SSH certificate authority: create CA keys, sign, inspect, list, revoke");
  group->require_subcommand(1);

  auto init = std::make_shared<CaInitRequest>();
  auto* init_cmd = group->add_subcommand("init", "Create the user (or --host) CA key; never replaces one");
  AddWhere(init_cmd, init->where);
  init_cmd->add_option("--type", init->type, "ed25519 (default), ecdsa or rsa")
      ->check(CLI::IsMember({"ed25519", "ecdsa", "rsa"}));
  init_cmd->add_option("--bits", init->bits, "ECDSA: 256, 384 or 521; RSA: 2048 to 16384 (default 3072)");
  init_cmd->add_option("--passphrase-file", init->passphrase_file, "Protect the key with the passphrase in this file");
  init_cmd->add_flag("--host", init->host, "Create the host CA (host_ca) instead of the user CA (user_ca)");
  init_cmd->callback([init] { RunAndExit(*init, &RunCaInit); });

  auto sign = std::make_shared<CaSignRequest>();
  auto* sign_cmd = group->add_subcommand("sign", "Sign public keys: writes KEY-cert.pub beside each KEY.pub");
  AddWhere(sign_cmd, sign->where);
  sign_cmd->add_flag("--host", sign->host, "Sign host certificates with the host CA");
  sign_cmd->add_option("--role", sign->role, "Sign for this configured role (principals, options, validity)");
  sign_cmd->add_option("--account", sign->account, "The account the role's certificate is for (default: you)");
  sign_cmd->add_option("-n", sign->principals, "Principals (user or host names), comma-separated");
  sign_cmd->add_option("-V", sign->validity, "Validity as ssh-keygen -V: +7d, -5m:+1w, 20270101, always:forever");
  sign_cmd->add_option("-I", sign->key_id, "Key id (default keyward:<account>:<role>:<serial>)");
  sign_cmd->add_option("-O", sign->options, "Certificate option as ssh-keygen -O: force-command=, source-address=, "
                                            "verify-required, permit-pty, ... (none by default)")
      ->allow_extra_args(false);
  sign_cmd->add_option("--passphrase-file", sign->passphrase_file, "The CA key's passphrase, in this file");
  sign_cmd->add_flag("-q", sign->quiet, "Do not list the certificates signed");
  sign_cmd->add_option("keys", sign->key_files, "Public key files (KEY.pub)")->required();
  sign_cmd->callback([sign] { RunAndExit(*sign, &RunCaSign); });

  auto inspect_file = std::make_shared<std::string>();
  auto* inspect_cmd = group->add_subcommand("inspect", "Print certificates as ssh-keygen -L -f does");
  inspect_cmd->add_option("file", *inspect_file, "Certificate file, - for standard input")->required();
  inspect_cmd->callback([inspect_file] { RunAndExit(*inspect_file, &RunCaInspect); });

  auto list = std::make_shared<CaListRequest>();
  auto* list_cmd = group->add_subcommand("list", "List the certificates the CA issued (issued.log)");
  AddWhere(list_cmd, list->where);
  list_cmd->add_flag("--json", list->json, "Write JSON");
  list_cmd->add_option("--account", list->account, "Only this account's certificates");
  list_cmd->callback([list] { RunAndExit(*list, &RunCaList); });

  RegisterCaRevokeCommand(*group);  // src/cli/krl_commands.h
}

}  // namespace keyward::cli
