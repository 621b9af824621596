// Reading whole files the caller names on the command line.
#pragma once

#include <string>

#include "base/error.h"

namespace keyward::fs {

// Files larger than this are refused rather than read into memory.
inline constexpr std::size_t kMaxInputFileBytes = std::size_t{1} << 30;

// Reads a whole file, or standard input when `path` is "-".
Result<std::string> ReadFileOrStdin(const std::string& path);

}  // namespace keyward::fs
