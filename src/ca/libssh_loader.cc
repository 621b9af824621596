#include "ca/libssh_loader.h"

#include <dlfcn.h>

#include <cstring>
#include <string>

// For the function types only: nothing here links against libssh.
#include <libssh/libssh.h>

namespace keyward::ca::libssh {
namespace {

constexpr const char* kLibraryName = "libssh.so.4";

struct Api {
  decltype(&ssh_pki_import_privkey_base64) import_privkey = nullptr;
  decltype(&ssh_pki_export_privkey_base64) export_privkey = nullptr;
  decltype(&ssh_key_type) key_type = nullptr;
  decltype(&ssh_key_free) key_free = nullptr;
  decltype(&ssh_string_free_char) free_char = nullptr;
};

int OpenFlags() {
  int flags = RTLD_NOW | RTLD_LOCAL;
#if !defined(__SANITIZE_ADDRESS__)
  // Bind libssh to its own libcrypto.so, not to a copy the program exports
  // (sanitizer runtimes refuse RTLD_DEEPBIND; those builds link libcrypto
  // dynamically, so there is one copy anyway).
  flags |= RTLD_DEEPBIND;
#endif
  return flags;
}

template <typename F>
bool Resolve(void* handle, const char* name, F& out) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) return false;
  // POSIX guarantees that an object pointer from dlsym converts to a
  // function pointer.
  out = reinterpret_cast<F>(symbol);
  return true;
}

struct Loaded {
  Api api;
  std::string error;  // empty when api is complete
};

Loaded DoLoad() {
  Loaded loaded;
  void* handle = dlopen(kLibraryName, OpenFlags());
  if (handle == nullptr) {
    const char* why = dlerror();
    loaded.error = std::string("passphrase-protected CA keys need libssh (") + kLibraryName +
                   ", Debian package libssh-4), which could not be loaded: " + (why ? why : "unknown error");
    return loaded;
  }
  Api& api = loaded.api;
  if (!Resolve(handle, "ssh_pki_import_privkey_base64", api.import_privkey) ||
      !Resolve(handle, "ssh_pki_export_privkey_base64", api.export_privkey) ||
      !Resolve(handle, "ssh_key_type", api.key_type) || !Resolve(handle, "ssh_key_free", api.key_free) ||
      !Resolve(handle, "ssh_string_free_char", api.free_char)) {
    loaded.error = std::string(kLibraryName) + " lacks the private key functions keyward needs (libssh 0.9 or later)";
  }
  return loaded;
}

// Loaded on first use (once, thread-safely) and kept for the life of the
// process: unloading a library that brought its own libcrypto is not worth
// the risk.
Result<const Api*> Load() {
  static const Loaded loaded = DoLoad();
  if (!loaded.error.empty()) return Fail("libssh_missing", loaded.error);
  return &loaded.api;
}

// Takes ownership of text libssh allocated: wiped, then freed by libssh.
Secret TakeText(const Api& api, char* text) {
  Secret copy{std::string(text)};
  WipeBytes(text, std::strlen(text));
  api.free_char(text);
  return copy;
}

struct KeyHolder {
  const Api& api;
  ssh_key key = nullptr;
  ~KeyHolder() {
    if (key != nullptr) api.key_free(key);
  }
};

Result<ssh_key> Import(const Api& api, std::string_view text, const char* passphrase, KeyHolder& holder) {
  // libssh wants a C string; the copy is a Secret so that it is wiped.
  Secret copy{std::string(text)};
  if (std::strlen(copy.c_str()) != copy.size()) return Fail("bad_ca_key", "the CA key file holds a NUL byte");
  if (api.import_privkey(copy.c_str(), passphrase, nullptr, nullptr, &holder.key) != SSH_OK || holder.key == nullptr) {
    return Fail(passphrase != nullptr ? "bad_passphrase" : "bad_ca_key",
                passphrase != nullptr ? "the passphrase does not open the CA key (or the key file is damaged)"
                                      : "libssh cannot read the CA key file");
  }
  return holder.key;
}

}  // namespace

Result<Secret> EncryptEd25519KeyFile(std::string_view plain_key_file, const Secret& passphrase) {
  auto api = Load();
  if (!api) return Fail(api.error());
  KeyHolder holder{**api};
  auto key = Import(**api, plain_key_file, nullptr, holder);
  if (!key) return Fail(key.error());
  if ((*api)->key_type(*key) != SSH_KEYTYPE_ED25519) {
    return Fail("bad_ca_key", "libssh writes openssh-key-v1 files only for Ed25519 keys");
  }
  char* out = nullptr;
  if ((*api)->export_privkey(*key, passphrase.c_str(), nullptr, nullptr, &out) != SSH_OK || out == nullptr) {
    return Fail("encrypt_failed", "libssh could not encrypt the CA key");
  }
  return TakeText(**api, out);
}

Result<Secret> DecryptKeyFile(std::string_view encrypted_key_file, const Secret& passphrase) {
  auto api = Load();
  if (!api) return Fail(api.error());
  KeyHolder holder{**api};
  auto key = Import(**api, encrypted_key_file, passphrase.c_str(), holder);
  if (!key) return Fail(key.error());
  char* out = nullptr;
  if ((*api)->export_privkey(*key, nullptr, nullptr, nullptr, &out) != SSH_OK || out == nullptr) {
    // libssh 0.10 cannot write RSA keys it read from openssh-key-v1.
    return Fail("unsupported_ca_key",
                "libssh opened the CA key but cannot hand it over; convert the key to PKCS#8 with "
                "`ssh-keygen -p -m PKCS8 -f KEY` (keeping a passphrase) and try again");
  }
  return TakeText(**api, out);
}

}  // namespace keyward::ca::libssh
