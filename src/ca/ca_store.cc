#include "ca/ca_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ca/private_key_file.h"
#include "ca/serial_counter.h"
#include "key/fingerprint.h"

namespace keyward::ca {
namespace {

constexpr std::size_t kMaxPublicKeyFileBytes = 16 * 1024;

fs::Ownership Owner() { return fs::Ownership{geteuid()}; }

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// mkdir -p for the parents, then the folder itself with 0700.
Result<void> MakeDirectories(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    std::string parent = path.substr(0, slash);
    if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return Fail("mkdir_failed", "cannot create the folder " + Quote(parent) + ": " + std::strerror(errno));
    }
  }
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail("mkdir_failed", "cannot create the CA folder " + Quote(path) + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace

std::string CaKeyFileName(key::CertType type) {
  return type == key::CertType::kHost ? kHostCaKeyFile : kUserCaKeyFile;
}

Result<fs::UniqueFd> OpenCaDirectory(const std::string& path, bool create) {
  if (path.empty() || path.front() != '/') {
    return Fail("bad_ca_dir", "the CA folder must be an absolute path (ca.dir in the configuration)");
  }
  std::string clean = path;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  if (create) {
    if (auto ok = MakeDirectories(clean); !ok) return Fail(ok.error());
  }
  auto dir = fs::OpenDirectory(clean, Owner(), "the CA folder");
  if (!dir) {
    if (dir.error().code == "missing") {
      return Fail("ca_missing", "the CA folder " + Quote(clean) + " does not exist; create the CA with `keyward ca init`");
    }
    return Fail(dir.error());
  }
  struct stat st {};
  if (fstat(dir->get(), &st) != 0) return Fail("stat_failed", "cannot check the CA folder " + Quote(clean));
  if (st.st_uid != geteuid()) {
    return Fail("bad_owner", "the CA folder " + Quote(clean) + " belongs to uid " + std::to_string(st.st_uid) +
                                 ", not to the user keyward runs as (uid " + std::to_string(geteuid()) + ")");
  }
  if ((st.st_mode & 077) != 0) {
    return Fail("bad_mode", "the CA folder " + Quote(clean) + " is open to group or others; make it private with "
                                                              "chmod 700 " + clean);
  }
  return dir;
}

Result<CreatedCaKey> CreateCaKey(int ca_dirfd, key::CertType type, const CaKeySpec& spec, const Secret* passphrase,
                                 std::string_view comment) {
  const std::string name = CaKeyFileName(type);
  if (struct stat st {}; fstatat(ca_dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return Fail("ca_exists", "there is already a " + std::string(type == key::CertType::kHost ? "host" : "user") +
                                 " CA key (" + name + " in the CA folder); keyward never replaces a CA key. "
                                 "Move it away yourself if you really mean to start a new CA");
  }
  auto signer = CaSigner::Generate(spec);
  if (!signer) return Fail(signer.error());
  auto file = EncodePrivateKeyFile(*signer, comment, passphrase);
  if (!file) return Fail(file.error());
  // Read it back as every later run will.
  auto again = DecodePrivateKeyFile(file->view(), passphrase);
  if (!again) return Fail("ca_write_failed", "the new CA key does not read back: " + again.error().message);
  if (!again->public_key().SamePublicKey(signer->public_key())) {
    return Fail("ca_write_failed", "the new CA key reads back as another key");
  }
  if (auto ok = fs::CreateFileAt(ca_dirfd, name, file->view(), 0600); !ok) {
    if (ok.error().code == "exists") {
      return Fail("ca_exists", "another process created the CA key " + name + " at the same time; keyward left it alone");
    }
    return Fail(ok.error());
  }
  CreatedCaKey created;
  created.public_line = signer->public_key().ToText();
  if (!comment.empty()) created.public_line += " " + std::string(comment);
  created.public_line += "\n";
  created.fingerprint = key::Fingerprint(signer->public_key());
  created.key_type = std::string(signer->public_key().type().short_name);
  fs::FileMode pub_mode;
  pub_mode.mode = 0644;
  if (auto ok = fs::AtomicReplaceAt(ca_dirfd, name + ".pub", created.public_line, pub_mode); !ok) return Fail(ok.error());
  if (auto ok = fs::SyncDirectory(ca_dirfd); !ok) return Fail(ok.error());
  if (auto ok = InitSerialCounter(ca_dirfd); !ok) return Fail(ok.error());
  return created;
}

Result<CaSigner> LoadCaKey(int ca_dirfd, key::CertType type, const Secret* passphrase) {
  const std::string name = CaKeyFileName(type);
  struct stat st {};
  auto text = fs::ReadFileIfExistsAt(ca_dirfd, name, Owner(), kMaxPrivateKeyFileBytes, "the CA key", &st);
  if (!text) return Fail(text.error());
  if (!*text) {
    return Fail("ca_missing", std::string("there is no ") + (type == key::CertType::kHost ? "host" : "user") +
                                  " CA key yet; create it with `keyward ca init" +
                                  (type == key::CertType::kHost ? " --host" : "") + "`");
  }
  Secret owned(std::move(**text));
  if ((st.st_mode & 077) != 0) {
    return Fail("bad_mode", "the CA key " + name + " is readable by group or others; keyward will not use it until "
                                                   "it is private (chmod 600), and the key should be considered exposed");
  }
  return DecodePrivateKeyFile(owned.view(), passphrase);
}

Result<key::PublicKey> ReadCaPublicKey(int ca_dirfd, key::CertType type) {
  const std::string name = CaKeyFileName(type) + ".pub";
  auto text = fs::ReadFileAt(ca_dirfd, name, Owner(), kMaxPublicKeyFileBytes, "the CA public key");
  if (!text) return Fail(text.error());
  auto parsed = key::ReadKeyText(*text);
  if (!parsed) return Fail("bad_ca_key", name + ": " + parsed.error().message);
  if (parsed->key.is_certificate()) return Fail("bad_ca_key", name + " holds a certificate, not a CA key");
  return std::move(parsed->key);
}

Result<OpenedCa> OpenCa(const std::string& ca_dir, key::CertType type, const Secret* passphrase) {
  auto dir = OpenCaDirectory(ca_dir, false);
  if (!dir) return Fail(dir.error());
  auto signer = LoadCaKey(dir->get(), type, passphrase);
  if (!signer) return Fail(signer.error());
  return OpenedCa{std::move(*dir), std::move(*signer)};
}

}  // namespace keyward::ca
