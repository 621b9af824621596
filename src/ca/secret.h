// Text that must not linger in memory: passphrases and private key files.
// The bytes are wiped (OPENSSL_cleanse) when the value dies or is replaced.
#pragma once

#include <string>
#include <string_view>

namespace keyward::ca {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept;
  ~Secret() { Wipe(); }

  std::string_view view() const { return value_; }
  const char* c_str() const { return value_.c_str(); }
  bool empty() const { return value_.empty(); }
  std::size_t size() const { return value_.size(); }

 private:
  void Wipe();
  std::string value_;
};

// Wipes a buffer that held secret bytes.
void WipeBytes(void* data, std::size_t size);

}  // namespace keyward::ca
