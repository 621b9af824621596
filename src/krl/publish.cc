#include "krl/publish.h"

#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <optional>

#include "fs/read_file.h"
#include "fs/safe_file.h"
#include "krl/account_keys.h"
#include "krl/encode.h"
#include "krl/parse.h"
#include "krl/public_key_file.h"
#include "krl/spec.h"
#include "store/store.h"

namespace keyward::krl {

namespace {

Result<std::string> Absolute(const std::string& path) {
  if (path.empty()) return Fail("bad_path", "no path was given for the KRL");
  if (path.front() == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) return Fail("bad_path", "cannot resolve the current folder");
  return std::string(cwd) + "/" + path;
}

// The CA folder, or nothing when there is none yet (krl build works
// without a CA: accounts and spec files only).
Result<std::optional<fs::UniqueFd>> OpenCaFolder(const config::Config& config) {
  auto fd = fs::OpenDirectory(config.ca.dir, fs::Ownership{geteuid()}, "the CA folder");
  if (!fd) {
    if (fd.error().code == "missing") return std::optional<fs::UniqueFd>();
    return Fail(fd.error());
  }
  return std::optional<fs::UniqueFd>(std::move(*fd));
}

struct Target {
  fs::UniqueFd dir;
  std::string name;
  std::string path;
};

Result<Target> OpenTarget(const PublishOptions& o) {
  auto path = Absolute(o.out.empty() ? o.config.ca.krl : o.out);
  if (!path) return Fail(path.error());
  auto [parent, name] = store::SplitPath(*path);
  if (name.empty()) return Fail("bad_path", "the KRL path " + *path + " names a folder, not a file");
  auto dir = fs::OpenDirectory(parent.empty() ? "/" : parent, fs::Ownership{geteuid()}, "the folder of the KRL");
  if (!dir) return Fail(dir.error());
  return Target{std::move(*dir), name, *path};
}

Result<void> AddSpecs(const PublishOptions& o, KrlBuilder& builder) {
  if (o.spec_files.empty()) return {};
  SpecOptions spec;
  std::optional<LoadedPublicKey> ca;
  if (strcasecmp(o.spec_ca.c_str(), "none") == 0) {
    spec.any_ca = true;
  } else if (!o.spec_ca.empty()) {
    auto loaded = LoadPublicKeyFile(o.spec_ca);
    if (!loaded) return Fail(loaded.error().code, "the CA for the spec files: " + loaded.error().message);
    ca = std::move(*loaded);
    spec.ca = &ca->found.key;
  }
  for (const auto& file : o.spec_files) {
    auto text = fs::ReadFileOrStdin(file);
    if (!text) return Fail(text.error());
    if (auto ok = ApplySpec(*text, file == "-" ? "(standard input)" : file, spec, builder); !ok) return ok;
  }
  return {};
}

// The version after the KRL now in place, if any.
std::uint64_t NextVersion(const Target& t, std::int64_t now, std::vector<std::string>& warnings) {
  const auto fallback = static_cast<std::uint64_t>(now > 0 ? now : 1);
  auto text = fs::ReadFileIfExistsAt(t.dir.get(), t.name, fs::Ownership{geteuid()}, kMaxKrlBytes, "the KRL");
  if (!text) {
    warnings.push_back("cannot read the KRL in place (" + text.error().message +
                       "); the new one gets the current time as its version, which is larger than any count");
    return fallback;
  }
  if (!text->has_value()) return 1;
  auto old = ParseKrl(AsBytes(**text));
  if (!old) {
    warnings.push_back("the KRL in place is not valid (" + old.error().message +
                       "); it is replaced, with the current time as version");
    return std::max(fallback, std::uint64_t{1});
  }
  if (old->version == std::numeric_limits<std::uint64_t>::max()) return old->version;
  return old->version + 1;
}

Result<PublishResult> BuildLocked(const PublishOptions& o, const std::optional<fs::UniqueFd>& ca_dir, const Target& t) {
  const std::int64_t now = o.now != 0 ? o.now : static_cast<std::int64_t>(std::time(nullptr));
  PublishResult res;
  res.path = t.path;
  KrlBuilder builder;
  if (ca_dir) {
    auto list = ReadRevocationList(ca_dir->get());
    if (!list) return Fail(list.error());
    for (auto& w : list->warnings) res.warnings.push_back(std::move(w));
    for (const auto& r : list->records) {
      if (auto ok = ApplyRevocation(r, builder); !ok) return Fail(ok.error());
    }
    res.revocation_records = list->records.size();
  }
  if (o.accounts) {
    AccountRevokedKeys accounts = RevokedKeysOfAccounts(o.config);
    for (const auto& k : accounts.keys) builder.RevokeBlob(k);
    for (auto& w : accounts.warnings) res.warnings.push_back(std::move(w));
    res.account_keys = accounts.keys.size();
    res.accounts = accounts.accounts;
    res.accounts_without_store = accounts.without_store;
  }
  if (auto ok = AddSpecs(o, builder); !ok) return Fail(ok.error());

  Krl krl = std::move(builder).Finish();
  krl.version = NextVersion(t, now, res.warnings);
  krl.generated_date = static_cast<std::uint64_t>(now);
  auto bytes = EncodeKrl(krl);
  if (!bytes) return Fail(bytes.error());
  // Never publish what cannot be read back as what was meant.
  auto again = ParseKrl(*bytes);
  if (!again || !SameRevocations(*again, krl)) {
    return Fail("internal", "internal error: the KRL built does not read back as built; nothing was written");
  }
  fs::FileMode mode;
  mode.mode = 0644;
  if (auto ok = fs::AtomicReplaceAt(t.dir.get(), t.name, AsText(*bytes), mode); !ok) {
    return Fail(ok.error());
  }
  res.version = krl.version;
  res.bytes = bytes->size();
  res.cas = krl.certificates.size();
  res.serials = krl.serial_count();
  for (const auto& s : krl.certificates) res.key_ids += s.key_ids.size();
  res.explicit_keys = krl.explicit_keys.size();
  res.sha1s = krl.sha1s.size();
  res.sha256s = krl.sha256s.size();
  return res;
}

}  // namespace

Result<PublishResult> BuildAndWriteKrl(const PublishOptions& o) {
  auto target = OpenTarget(o);
  if (!target) return Fail(target.error());
  auto ca_dir = OpenCaFolder(o.config);
  if (!ca_dir) return Fail(ca_dir.error());
  if (*ca_dir) {
    auto lock = fs::FileLock::Acquire((*ca_dir)->get(), kRevocationsLock, fs::Ownership{geteuid()});
    if (!lock) return Fail(lock.error());
    return BuildLocked(o, *ca_dir, *target);
  }
  // Without a CA folder, builds lock the KRL's folder itself (flock on its
  // descriptor), which leaves nothing behind in /etc/ssh.
  while (flock(target->dir.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Fail("lock_failed", "cannot lock the folder of the KRL: " + std::string(std::strerror(errno)));
  }
  return BuildLocked(o, *ca_dir, *target);
}

Result<PublishResult> RevokeAndRebuild(const PublishOptions& o, const std::vector<Revocation>& records,
                                       bool* recorded) {
  if (recorded != nullptr) *recorded = false;
  auto ca_dir = OpenCaFolder(o.config);
  if (!ca_dir) return Fail(ca_dir.error());
  if (!*ca_dir) {
    return Fail("no_ca", "the CA folder " + o.config.ca.dir + " does not exist; create the CA first (keyward ca init)");
  }
  auto target = OpenTarget(o);
  if (!target) return Fail(target.error());
  auto lock = fs::FileLock::Acquire((*ca_dir)->get(), kRevocationsLock, fs::Ownership{geteuid()});
  if (!lock) return Fail(lock.error());
  if (auto ok = AppendRevocations((*ca_dir)->get(), records); !ok) return Fail(ok.error());
  if (recorded != nullptr) *recorded = true;
  return BuildLocked(o, *ca_dir, *target);
}

}  // namespace keyward::krl
