// Errors are values: every fallible function returns Result<T>, an
// Error carries a stable machine-readable code and a message that tells a
// person what is wrong and what to do about it.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace keyward {

struct Error {
  std::string code;     // stable, snake_case: "bad_base64", "unknown_key_type"
  std::string message;  // for people: what is wrong, and what to do

  std::string ToString() const { return message; }
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> Fail(std::string code, std::string message) {
  return tl::unexpected<Error>(Error{std::move(code), std::move(message)});
}

inline tl::unexpected<Error> Fail(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

}  // namespace keyward
