#include "ca/secret.h"

#include <openssl/crypto.h>

namespace keyward::ca {

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Wipe();
    value_ = std::move(other.value_);
    other.Wipe();
  }
  return *this;
}

void Secret::Wipe() {
  // The whole capacity: a shorter value may have left older bytes behind.
  value_.resize(value_.capacity());
  WipeBytes(value_.data(), value_.size());
  value_.clear();
}

void WipeBytes(void* data, std::size_t size) {
  if (data != nullptr && size != 0) OPENSSL_cleanse(data, size);
}

}  // namespace keyward::ca
