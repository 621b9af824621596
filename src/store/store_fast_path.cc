// The fast path of a change. A store's folders change only under its lock,
// and every change leaves an index that describes the folder exactly
// (keys.index for users/, revoked.index for revoked/). While the folder's
// mtime and file names are still the ones an index records, a change can
// read that one file instead of opening every key file: what makes adding
// or revoking a key on an account of a thousand keys cost about as much as
// on an account of one. Every rendered line is still parsed, checked against
// the policy and written in canonical form. A file added, removed or renamed
// behind keyward's back changes the folder, and the change goes the slow
// way. The index is trusted as far as the key files are: it lives in the
// same store, with the same owner. Like the AuthorizedKeysCommand lookup, a
// key file rewritten in place is seen at the next full `keyward render`.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <unordered_set>

#include "key/fingerprint.h"
#include "store/store.h"

namespace keyward::store {

namespace {

// The non-hidden names of a folder, sorted.
Result<std::vector<std::string>> KeyFileNames(int dirfd) {
  auto names = fs::ListDirectory(dirfd);
  if (!names) return Fail(names.error());
  std::erase_if(*names, [](const std::string& n) { return n.empty() || n[0] == '.'; });
  std::sort(names->begin(), names->end());
  return names;
}

bool SameFiles(const std::vector<std::string>& sorted_names, const std::vector<IndexRecord>& records) {
  if (sorted_names.size() != records.size()) return false;
  std::vector<std::string_view> files;
  files.reserve(records.size());
  for (const IndexRecord& r : records) files.push_back(r.file);
  std::sort(files.begin(), files.end());
  return std::equal(sorted_names.begin(), sorted_names.end(), files.begin());
}

}  // namespace

std::optional<std::vector<IndexRecord>> Store::CurrentIndex(bool revoked) const {
  int dirfd = revoked ? revoked_.get() : users_.get();
  auto text = fs::ReadFileIfExistsAt(store_.get(), revoked ? kRevokedIndexFile : kIndexFile, owner(),
                                     kMaxAuthorizedKeysBytes, "the key index");
  if (!text || !text->has_value()) return std::nullopt;
  auto view = IndexView::Open(**text);
  if (!view) return std::nullopt;
  struct stat st {};
  if (fstat(dirfd, &st) != 0 || fs::MtimeNs(st) != view->header().users_mtime_ns) return std::nullopt;
  auto records = view->AllRecords();
  if (!records) return std::nullopt;
  auto names = KeyFileNames(dirfd);
  if (!names || !SameFiles(*names, *records)) return std::nullopt;
  return std::move(*records);
}

Result<std::optional<RenderResult>> Store::RenderFromRecords(std::vector<IndexRecord> records) {
  // The folder's mtime first, then its names: a file added after the
  // listing changes the mtime recorded here, and the next change goes the
  // slow way.
  struct stat users_st {};
  if (fstat(users_.get(), &users_st) != 0) return Fail("stat_failed", "cannot stat users/");
  auto names = KeyFileNames(users_.get());
  if (!names) return Fail(names.error());
  if (!SameFiles(*names, records)) return std::optional<RenderResult>();

  std::sort(records.begin(), records.end(),
            [](const IndexRecord& a, const IndexRecord& b) { return a.file < b.file; });
  RenderResult r;
  if (auto ok = AppendReadme(r); !ok) return Fail(ok.error());
  std::unordered_set<std::string> seen;  // plain blobs
  seen.reserve(records.size());
  for (IndexRecord& rec : records) {
    // The checks BuildRender makes on a key file, on the recorded line;
    // anything it would skip or report sends the caller the slow way.
    auto parsed = authkeys::ParseAuthorizedKeysLine(rec.line);
    if (!parsed || parsed->kind != authkeys::LineKind::kKey || !parsed->entry) return std::optional<RenderResult>();
    const authkeys::AuthorizedKey& entry = *parsed->entry;
    if (!ParseKeyFileName(rec.file) || authkeys::FormatAuthorizedKey(entry) != rec.line ||
        !key::CheckKeyPolicy(entry.key, context_.policy).empty() ||
        !seen.emplace(AsText(entry.key.plain_blob())).second) {
      return std::optional<RenderResult>();
    }
    rec.fingerprint = key::Fingerprint(entry.key);
    rec.expiry = entry.options.expiry_time;
    rec.cert_authority = entry.options.cert_authority;
    r.content += rec.line;
    r.content += "\n";
    ++r.keys;
  }
  auto committed = CommitRender(std::move(r), std::move(records), fs::MtimeNs(users_st));
  if (!committed) return Fail(committed.error());
  return std::optional<RenderResult>(std::move(*committed));
}

Result<std::optional<ChangeResult>> Store::RevokeFast(const Selector& selector) {
  auto indexed = CurrentIndex(false);
  if (!indexed) return std::optional<ChangeResult>();
  auto indexed_revoked = CurrentIndex(true);
  std::vector<IndexRecord> keep, chosen;
  for (IndexRecord& r : *indexed) {
    bool match = false;
    if (!selector.file.empty()) {
      match = r.file == selector.file;
    } else if (!selector.fingerprint.empty()) {
      match = r.fingerprint == selector.fingerprint;  // SHA256 only; MD5 goes the slow way
    } else if (auto name = ParseKeyFileName(r.file)) {
      match = name->owner == selector.owner && name->device == selector.device;
    }
    (match ? chosen : keep).push_back(std::move(r));
  }
  if (chosen.empty()) return std::optional<ChangeResult>();

  ChangeResult change;
  for (const IndexRecord& r : chosen) {
    if (auto ok = fs::MoveNoReplace(users_.get(), r.file, revoked_.get(), r.file); !ok) return Fail(ok.error());
    change.files.push_back(r.file);
    change.fingerprints.push_back(r.fingerprint);
    if (auto ok = Log("revoke", r.file, r.fingerprint); !ok) return Fail(ok.error());
  }
  // A rename keeps the inode, size and mtime the records hold.
  if (indexed_revoked) {
    for (IndexRecord& r : chosen) indexed_revoked->push_back(std::move(r));
    (void)WriteRevokedIndex(std::move(*indexed_revoked));  // a cache: failing costs speed only
  } else {
    (void)RefreshRevokedCache();
  }
  auto fast = RenderFromRecords(std::move(keep));
  if (!fast) return Fail(fast.error());
  if (fast->has_value()) {
    change.render = std::move(**fast);
  } else {
    auto render = RenderLocked();
    if (!render) return Fail(render.error());
    change.render = std::move(*render);
  }
  return std::optional<ChangeResult>(std::move(change));
}

}  // namespace keyward::store
