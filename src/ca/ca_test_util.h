// Helpers for the CA's unit tests: a private temporary folder, and keys.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "ca/ca_signer.h"
#include "fs/safe_file.h"
#include "key/public_key.h"

namespace keyward::ca::testing {

// A mode-0700 folder under /tmp, removed with everything in it.
class TempCaDir {
 public:
  TempCaDir() {
    char tmpl[] = "/tmp/keyward-ca-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    path_ = tmpl;
    fd_ = fs::UniqueFd(open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  ~TempCaDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempCaDir(const TempCaDir&) = delete;
  TempCaDir& operator=(const TempCaDir&) = delete;

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

  void Write(const std::string& name, const std::string& content, mode_t mode = 0600) const {
    std::ofstream(Path(name), std::ios::binary | std::ios::trunc) << content;
    chmod(Path(name).c_str(), mode);
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  bool Exists(const std::string& name) const { return std::filesystem::exists(Path(name)); }

 private:
  std::string path_;
  fs::UniqueFd fd_;
};

inline CaSigner MakeSigner(key::Algorithm algorithm, unsigned bits = 0) {
  auto s = CaSigner::Generate(CaKeySpec{algorithm, bits});
  if (!s) {
    ADD_FAILURE() << s.error().message;
    std::abort();
  }
  return std::move(*s);
}

// A fresh public key of the type (made by generating a private key).
inline key::PublicKey MakeKey(key::Algorithm algorithm, unsigned bits = 0) {
  return MakeSigner(algorithm, bits).public_key();
}

inline key::PublicKey KeyFromText(const std::string& line) {
  auto k = key::ReadKeyText(line);
  if (!k) {
    ADD_FAILURE() << k.error().message;
    std::abort();
  }
  return std::move(k->key);
}

}  // namespace keyward::ca::testing
