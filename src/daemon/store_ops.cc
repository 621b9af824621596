#include "daemon/store_ops.h"

#include <set>

#include "authkeys/line.h"
#include "key/fingerprint.h"
#include "fs/safe_file.h"
#include "store/audit_log.h"

namespace keyward::daemon {

namespace {

using nlohmann::json;

json KeyToJson(const store::KeyEntry& e) {
  json k = {{"file", e.file},      {"owner", ""},   {"device", ""},      {"date", ""},
            {"serial", 0},         {"type", ""},    {"bits", 0},         {"fingerprint", ""},
            {"expiry", nullptr},   {"comment", ""}, {"state", store::KeyStateName(e.state)}};
  if (e.name) {
    k["owner"] = e.name->owner;
    k["device"] = e.name->device;
    k["date"] = e.name->date;
    k["serial"] = e.name->serial;
  }
  if (e.entry) {
    k["type"] = std::string(e.entry->key.type_name());
    k["bits"] = e.entry->key.bits();
    k["fingerprint"] = key::Fingerprint(e.entry->key);
    k["comment"] = authkeys::CleanComment(e.entry->comment);
    if (e.entry->options.expiry_time != 0) {
      k["expiry"] = store::FormatUtcTimestamp(static_cast<std::int64_t>(e.entry->options.expiry_time));
    }
  }
  return k;
}

// True when users/ and revoked/ hold no key file (stops at the first name).
Result<bool> StoreIsEmpty(const store::StoreContext& c) {
  fs::Ownership owner{c.account.uid};
  for (const char* sub : {store::kUsersDir, store::kRevokedDir}) {
    auto dir = fs::OpenDirectoryChain(c.account.home, c.store_dir + "/" + sub, owner, "the key store folder");
    if (!dir) return Fail(dir.error());
    auto any = fs::HasVisibleEntry(dir->get());
    if (!any) return Fail(any.error());
    if (*any) return false;
  }
  return true;
}

std::size_t CountKeyLines(std::string_view text) {
  std::size_t keys = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    auto parsed = authkeys::ParseAuthorizedKeysLine(text.substr(0, nl));
    if (parsed && parsed->kind == authkeys::LineKind::kKey) ++keys;
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return keys;
}

// The store of an account that has never had one is set up on its first
// add (with the account's rights, like everything here): self-service is
// for users without a working key. But keys already in an authorized_keys
// that keyward does not manage are never dropped by a first render: such an
// account waits for its administrator's `keyward import`.
Result<store::Store> OpenForChange(const store::StoreContext& c) {
  auto opened = store::Store::Open(c);
  if (!opened) {
    if (opened.error().code != "missing") return opened;
    auto init = store::Store::Init(c);
    if (!init) return Fail(init.error());
    opened = store::Store::Open(c);
    if (!opened) return opened;
  }
  // A store keyward has rendered before owns its authorized_keys already.
  if (opened->HasRendered()) return opened;
  auto empty = StoreIsEmpty(c);
  if (!empty) return Fail(empty.error());
  if (*empty) {
    auto existing = opened->ReadAuthorizedKeys();
    if (!existing) return Fail(existing.error());
    if (existing->has_value() && CountKeyLines(**existing) > 0) {
      return Fail("store_not_ready", "This account's authorized_keys holds keys that keyward does not manage yet. "
                                     "Ask the administrator to bring them in (keyward import) first.");
    }
  }
  return opened;
}

// The key of revoked/<file> as "<type> <base64>", or "" (the caller logs).
std::string RevokedKeyText(const store::StoreContext& c, const std::string& file) {
  fs::Ownership owner{c.account.uid};
  auto dir = fs::OpenDirectoryChain(c.account.home, c.store_dir + "/" + store::kRevokedDir, owner, "the revoked/ folder");
  if (!dir) return {};
  auto text = fs::ReadFileAt(dir->get(), file, owner, store::kMaxKeyFileBytes, "the revoked key file");
  if (!text) return {};
  std::string_view rest = *text;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    auto parsed = authkeys::ParseAuthorizedKeysLine(rest.substr(0, nl));
    if (parsed && parsed->kind == authkeys::LineKind::kKey && parsed->entry) return parsed->entry->key.ToText();
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  return {};
}

json ChangeToJson(const store::ChangeResult& change) {
  return {{"file", change.files.empty() ? "" : change.files.front()},
          {"fingerprint", change.fingerprints.empty() ? "" : change.fingerprints.front()}};
}

}  // namespace

store::StoreContext MakeStoreContext(const AccountPlace& place, const key::KeyPolicy& policy,
                                     const std::string& client, std::int64_t now) {
  store::StoreContext c;
  c.account = place.account;
  c.store_dir = place.store_dir;
  c.authorized_keys = place.authorized_keys;
  c.policy = policy;
  c.actor = "keywardd";
  c.client = client;
  c.now = now;
  return c;
}

Result<json> ListKeysWork(const store::StoreContext& context) {
  auto store = store::Store::Open(context);
  // Never set up: no keys yet (a read creates nothing).
  if (!store && store.error().code == "missing") return json{{"keys", json::array()}};
  if (!store) return Fail(store.error());
  auto entries = store->List(/*include_revoked=*/true);
  if (!entries) return Fail(entries.error());
  json keys = json::array();
  for (const store::KeyEntry& e : *entries) keys.push_back(KeyToJson(e));
  return json{{"keys", std::move(keys)}};
}

Result<json> AddKeyWork(const store::StoreContext& context, const store::AddRequest& request) {
  auto store = OpenForChange(context);
  if (!store) return Fail(store.error());
  auto change = store->Add(request);
  if (!change) return Fail(change.error());
  return ChangeToJson(*change);
}

Result<json> RevokeKeyWork(const store::StoreContext& context, const std::string& file, bool want_key) {
  auto store = store::Store::Open(context);
  if (!store) return Fail(store.error());
  store::Selector selector;
  selector.file = file;
  auto change = store->Revoke(selector);
  if (!change) return Fail(change.error());
  json reply = ChangeToJson(*change);
  if (want_key) reply["key"] = RevokedKeyText(context, change->files.empty() ? file : change->files.front());
  return reply;
}

json ListKeysRequest(const std::string& client, std::int64_t now) {
  return {{"op", "list"}, {"client", client}, {"now", now}};
}

json AddKeyRequest(const std::string& client, std::int64_t now, const store::AddRequest& r) {
  return {{"op", "add"},           {"client", client},   {"now", now},          {"owner", r.owner},
          {"device", r.device},    {"key", r.key_text}, {"options", r.options}, {"expires", r.expires}};
}

json RevokeKeyRequest(const std::string& client, std::int64_t now, const std::string& file, bool want_key) {
  return {{"op", "revoke"}, {"client", client}, {"now", now}, {"file", file}, {"want_key", want_key}};
}

Result<json> ServeStoreRequest(const AccountPlace& place, const key::KeyPolicy& policy, const json& request) {
  // keywardd wrote the request; a malformed one is a bug, not an attack.
  auto bad = [] { return Fail("internal", "a malformed request reached the worker"); };
  if (!request.is_object() || !request.contains("op") || !request["op"].is_string() ||
      !request.contains("client") || !request["client"].is_string() || !request.contains("now") ||
      !request["now"].is_number_integer()) {
    return bad();
  }
  const std::string op = request["op"];
  auto context = MakeStoreContext(place, policy, request["client"].get<std::string>(),
                                  request["now"].get<std::int64_t>());
  try {
    if (op == "list") return ListKeysWork(context);
    if (op == "add") {
      store::AddRequest add;
      add.owner = request.at("owner").get<std::string>();
      add.device = request.at("device").get<std::string>();
      add.key_text = request.at("key").get<std::string>();
      add.options = request.at("options").get<std::vector<std::string>>();
      add.expires = request.at("expires").get<std::uint64_t>();
      return AddKeyWork(context, add);
    }
    if (op == "revoke") {
      return RevokeKeyWork(context, request.at("file").get<std::string>(), request.at("want_key").get<bool>());
    }
  } catch (const json::exception&) {
    return bad();
  }
  return bad();
}

Error PublicStoreError(const Error& e) {
  // The file system's and the daemon's own codes: nothing the web user can
  // act on, and their messages name paths in a home folder.
  static const std::set<std::string> kSystem = {
      "bad_owner",      "bad_mode",     "symlink",      "hard_link",       "not_a_directory", "not_a_regular_file",
      "missing",        "open_failed",  "stat_failed",  "read_failed",     "write_failed",    "fsync_failed",
      "rename_failed",  "create_failed", "chmod_failed", "mkdir_failed",   "lock_failed",     "mmap_failed",
      "file_too_large", "bad_path",     "bad_home",     "bad_template",    "bad_log",         "bad_index",
      "exists",         "drop_failed",  "not_permitted", "passwd_failed",  "internal",        "bad_policy"};
  if (kSystem.count(e.code) != 0) {
    return {"store_failed", "The key store of this account cannot be changed right now. The administrator has been "
                            "told; try again later."};
  }
  if (e.code == "no_match") return {"no_match", "There is no active key by that name on this account."};
  if (e.code == "key_revoked") {
    return {"key_revoked", "This key was revoked from this account. Make a new key, or ask the administrator to "
                           "reinstate it."};
  }
  if (e.code == "options_in_key") {
    return {"options_in_key", "The key line carries options (such as command= or from=) in front of the key. Paste "
                              "the public key alone: the contents of the .pub file."};
  }
  return e;
}

}  // namespace keyward::daemon
