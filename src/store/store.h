// The per-key store: one file per key in users/ (active) and revoked/,
// authorized_keys derived from it, every change locked, validated, logged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "authkeys/line.h"
#include "base/error.h"
#include "fs/safe_file.h"
#include "key/policy.h"
#include "store/account.h"
#include "store/key_name.h"
#include "store/keys_index.h"

namespace keyward::store {

inline constexpr const char* kUsersDir = "users";
inline constexpr const char* kRevokedDir = "revoked";
inline constexpr const char* kReadmeFile = "!!README!!";
inline constexpr const char* kLockFile = ".lock";
inline constexpr const char* kAuditLogFile = "audit.log";
inline constexpr const char* kIndexFile = "keys.index";
inline constexpr const char* kRevokedIndexFile = "revoked.index";
inline constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;
inline constexpr std::size_t kMaxAuthorizedKeysBytes = 256u << 20;

// Everything a store operation needs to know about where and who.
struct StoreContext {
  Account account;              // whose keys these are
  std::string store_dir;        // absolute path of the store folder
  std::string authorized_keys;  // absolute path of the rendered file
  key::KeyPolicy policy;
  std::string actor;            // who acts, for the audit log
  std::string client;           // where from (a web client address), may be empty
  std::int64_t now = 0;         // seconds since the epoch
};

enum class KeyState { kActive, kExpired, kRevoked, kInvalid };
const char* KeyStateName(KeyState state);

struct KeyEntry {
  std::string file;                              // file name in users/ or revoked/
  std::optional<KeyName> name;                   // unset when the name breaks the rule
  std::optional<authkeys::AuthorizedKey> entry;  // unset when the file is invalid
  KeyState state = KeyState::kActive;
  std::string problem;                           // why the file is invalid
  std::uint64_t inode = 0;                       // from fstat, for keys.index
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool rendered = false;                         // made it into authorized_keys
};

struct AddRequest {
  std::string owner;           // e-mail
  std::string device;
  std::string key_text;        // the key file's content: one public key line
  std::vector<std::string> options;  // option texts: "restrict", "from=\"10.0.0.0/8\""
  std::uint64_t expires = 0;   // seconds since the epoch; 0 = never
};

// A selector names keys: a file name, a fingerprint ("SHA256:..."), or an
// owner and a device.
struct Selector {
  std::string file;
  std::string fingerprint;
  std::string owner;
  std::string device;
};
Result<Selector> ParseSelector(const std::vector<std::string>& words);

struct Skipped {
  std::string file;
  std::string reason;
};

struct RenderResult {
  std::string content;
  std::size_t keys = 0;
  std::vector<Skipped> skipped;
  std::string saved_copy;  // where a hand-edited authorized_keys was saved
  bool changed = false;
};

struct ChangeResult {
  std::vector<std::string> files;         // the files added, moved or pruned
  std::vector<std::string> fingerprints;  // the same order
  RenderResult render;
};

struct ImportResult {
  std::vector<std::string> added;
  std::vector<Skipped> skipped;  // "line N", reason
  std::string original_copy;
  RenderResult render;
};

struct CheckResult {
  bool matches = false;
  std::string diff;  // readable, "-" lines on disk only, "+" lines render would write
  std::vector<Skipped> skipped;
};

class Store {
 public:
  // Creates the store's folders and README where missing. Never touches an
  // existing authorized_keys; says how many keys it holds so that they can
  // be imported first.
  static Result<std::string> Init(const StoreContext& context);
  static Result<Store> Open(const StoreContext& context);
  // For sshd's AuthorizedKeysCommand, which only reads users/ and
  // keys.index: the folder of authorized_keys (maybe unreadable to the
  // command user, or absent with a central store) is not opened.
  static Result<Store> OpenForLookup(const StoreContext& context);

  Result<ChangeResult> Add(const AddRequest& request);
  Result<std::vector<KeyEntry>> List(bool include_revoked) const;
  Result<ChangeResult> Revoke(const Selector& selector);
  Result<ChangeResult> Reinstate(const Selector& selector);
  Result<RenderResult> Render();
  Result<CheckResult> Check() const;
  Result<ImportResult> Import(std::string_view content, const std::string& default_owner);
  Result<ChangeResult> Prune();

  // What sshd's AuthorizedKeysCommand should print: the active, unexpired
  // keys, or only those matching `fingerprint` (cert-authority lines always
  // match). Never writes. Uses keys.index when it is current.
  Result<std::string> KeysForSshd(std::string_view fingerprint) const;

  // Whether keyward has rendered this store before (keys.index exists): its
  // authorized_keys is then keyward's (a hand edit is kept aside at the next
  // render). One fstatat.
  bool HasRendered() const;

  // The authorized_keys content as it is on disk now, for import.
  Result<std::optional<std::string>> ReadAuthorizedKeys() const;

  const StoreContext& context() const { return context_; }

 private:
  Store(StoreContext context, fs::UniqueFd store, fs::UniqueFd users, fs::UniqueFd revoked, fs::UniqueFd ak_dir)
      : context_(std::move(context)),
        store_(std::move(store)),
        users_(std::move(users)),
        revoked_(std::move(revoked)),
        ak_dir_(std::move(ak_dir)) {}

  fs::Ownership owner() const { return {context_.account.uid}; }
  static Result<Store> OpenImpl(const StoreContext& context, bool open_authorized_keys_folder);
  // Reads users/ (or revoked/) with that folder's cache (keys.index,
  // revoked.index): a file whose inode, size and mtime match its record is
  // parsed from the record instead of being opened. `misses` (optional)
  // counts the files that had to be read.
  Result<std::vector<KeyEntry>> ReadFolder(int dirfd, bool revoked, std::size_t* misses = nullptr) const;
  std::unordered_map<std::string, IndexRecord> LoadFileCache(bool revoked) const;
  // Rewrites revoked.index when revoked/ holds files it does not know.
  Result<void> RefreshRevokedCache();
  // `entries` (optional) receives the users/ entries, marked `rendered`, and
  // `lines` the rendered entries' lines in the same order.
  Result<RenderResult> BuildRender(std::vector<KeyEntry>* entries = nullptr,
                                   std::vector<std::string>* lines = nullptr) const;
  Result<void> AppendReadme(RenderResult& r) const;
  // `save_hand_edits`: keep a copy of an authorized_keys that keyward did
  // not write before replacing it (off when the caller already saved it).
  Result<RenderResult> RenderLocked(bool save_hand_edits = true);
  // Writes keys.index (`records`: the rendered keys) and then
  // authorized_keys, keeping a hand-edited one aside. `last` is the header
  // of the keys.index being replaced, when the caller has read it already.
  Result<RenderResult> CommitRender(RenderResult r, std::vector<IndexRecord> records, std::int64_t users_mtime_ns,
                                    bool save_hand_edits = true, const IndexHeader* last = nullptr);

  // The fast path of a change (store_fast_path.cc): while an index's
  // recorded mtime is still its folder's, a change reads it instead of every
  // key file.
  struct Indexed {
    IndexHeader header;
    std::vector<IndexRecord> records;
  };
  std::optional<Indexed> CurrentIndex(bool revoked) const;
  // Renders users/ from `records` (every file in users/ after the change;
  // `last` is the header of the index they came from); nullopt when users/
  // is not exactly those files or a line does not pass, and the caller
  // renders the slow way.
  Result<std::optional<RenderResult>> RenderFromRecords(std::vector<IndexRecord> records, const IndexHeader& last);
  Result<void> WriteRevokedIndex(std::vector<IndexRecord> records);
  // Revoke with current indexes (the lock held); nullopt: nothing done,
  // take the slow way (which also gives the errors).
  Result<std::optional<ChangeResult>> RevokeFast(const Selector& selector);
  Result<std::optional<std::string>> KeysFromIndex(std::string_view fingerprint) const;
  Result<std::vector<KeyEntry*>> Select(std::vector<KeyEntry>& entries, const Selector& selector) const;
  // The first free serial of `name`, among `known_files` (every file of
  // users/ and revoked/) or else the folders' listings.
  Result<std::string> NextFileName(KeyName name, const std::vector<std::string>* known_files = nullptr) const;
  Result<void> Log(std::string_view action, const std::string& file, const std::string& fingerprint) const;
  Result<ChangeResult> Move(const Selector& selector, bool revoke);

  StoreContext context_;
  fs::UniqueFd store_;
  fs::UniqueFd users_;
  fs::UniqueFd revoked_;
  fs::UniqueFd ak_dir_;
};

// The folder and base name of a path: "/home/a/.ssh/authorized_keys".
std::pair<std::string, std::string> SplitPath(const std::string& path);

}  // namespace keyward::store
