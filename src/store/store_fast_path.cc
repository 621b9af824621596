// The fast path of a change. A store's folders change only under its lock,
// and every change leaves an index that describes the folder exactly
// (keys.index for users/, revoked.index for revoked/). While the folder's
// mtime is still the one an index records, a change can read that one file
// instead of opening every key file, and the render can trust the lines an
// earlier render checked against the same key policy (the index records its
// tag). That is what makes adding or revoking a key on an account of a
// thousand keys cost little more than on an account of one.
//
// A folder's mtime alone is not proof: it ticks with the kernel's clock, so a
// file added or removed behind keyward's back just after a change may leave
// it as it was. So a render never trusts it: before users/ is rendered from
// records, it is listed and must hold exactly those files, or the change goes
// the slow way (every key file read and checked). The mtime only decides
// where a change starts: a stale start costs a refused name or a slow render,
// never a wrong authorized_keys. revoked/ is never rendered; its index is
// trusted by mtime for the duplicate check of an add. Like the
// AuthorizedKeysCommand lookup, a key file rewritten in place is seen at the
// next full `keyward render`.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <unordered_set>

#include "key/fingerprint.h"
#include "store/store.h"

namespace keyward::store {

namespace {

// Whether the sorted non-hidden names of users/ are exactly the files of
// `records` (sorted by file).
Result<bool> FolderHoldsExactly(int dirfd, const std::vector<IndexRecord>& records) {
  auto names = fs::ListDirectory(dirfd);  // sorted
  if (!names) return Fail(names.error());
  std::size_t i = 0;
  for (const std::string& n : *names) {
    if (n.empty() || n[0] == '.') continue;  // keyward's own temporary files
    if (i == records.size() || records[i].file != n) return false;
    ++i;
  }
  return i == records.size();
}

}  // namespace

std::optional<Store::Indexed> Store::CurrentIndex(bool revoked) const {
  int dirfd = revoked ? revoked_.get() : users_.get();
  // Mapped, not read: the records are copied out once, by AllRecords. No
  // shared lock: the store's lock, held, keeps every writer out.
  auto mapped = fs::MappedFile::OpenIfExistsAt(store_.get(), revoked ? kRevokedIndexFile : kIndexFile, owner(),
                                               "the key index");
  if (!mapped || !mapped->has_value()) return std::nullopt;
  auto view = IndexView::Open((*mapped)->view());
  // Its lines go into authorized_keys as they are: a file torn by a crash
  // during an in-place rewrite must not be taken.
  if (!view || !view->Intact()) return std::nullopt;
  struct stat st {};
  if (fstat(dirfd, &st) != 0 || fs::MtimeNs(st) != view->header().users_mtime_ns) return std::nullopt;
  auto records = view->AllRecords();
  if (!records) return std::nullopt;
  return Indexed{view->header(), std::move(*records)};
}

Result<std::optional<RenderResult>> Store::RenderFromRecords(std::vector<IndexRecord> records,
                                                             const IndexHeader& last) {
  std::sort(records.begin(), records.end(),
            [](const IndexRecord& a, const IndexRecord& b) { return a.file < b.file; });
  // The folder's mtime first, then its names: a file added after the
  // listing changes the mtime recorded here, and the next change starts
  // the slow way.
  struct stat users_st {};
  if (fstat(users_.get(), &users_st) != 0) return Fail("stat_failed", "cannot stat users/");
  auto exact = FolderHoldsExactly(users_.get(), records);
  if (!exact) return Fail(exact.error());
  if (!*exact) return std::optional<RenderResult>();

  // Lines an earlier render checked against this same policy are written as
  // they are; otherwise each is checked as BuildRender checks a key file,
  // and anything it would skip or report sends the caller the slow way.
  const bool checked = last.policy == key::PolicyTag(context_.policy);
  RenderResult r;
  if (auto ok = AppendReadme(r); !ok) return Fail(ok.error());
  std::size_t bytes = r.content.size();
  for (const IndexRecord& rec : records) bytes += rec.line.size() + 1;
  r.content.reserve(bytes);
  std::unordered_set<std::string> seen;  // plain blobs
  if (!checked) seen.reserve(records.size());
  for (IndexRecord& rec : records) {
    if (!checked) {
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
    }
    r.content += rec.line;
    r.content += '\n';
    ++r.keys;
  }
  auto committed = CommitRender(std::move(r), std::move(records), fs::MtimeNs(users_st), true, &last);
  if (!committed) return Fail(committed.error());
  return std::optional<RenderResult>(std::move(*committed));
}

Result<std::optional<ChangeResult>> Store::RevokeFast(const Selector& selector) {
  auto indexed = CurrentIndex(false);
  if (!indexed) return std::optional<ChangeResult>();
  auto indexed_revoked = CurrentIndex(true);
  std::vector<IndexRecord> keep, chosen;
  keep.reserve(indexed->records.size());
  for (IndexRecord& r : indexed->records) {
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
    for (IndexRecord& r : chosen) indexed_revoked->records.push_back(std::move(r));
    (void)WriteRevokedIndex(std::move(indexed_revoked->records));  // a cache: failing costs speed only
  } else {
    (void)RefreshRevokedCache();
  }
  auto fast = RenderFromRecords(std::move(keep), indexed->header);
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
