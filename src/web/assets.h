// The files of web/ (templates and the style sheet), compiled into the
// program by cmake/embed_assets.cmake, so that keyward-web reads no file at
// run time.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace keyward::web {

// Defined in the generated web_assets.cc: (file name, content) pairs.
extern std::pair<std::string_view, std::string_view> kAssets[];
extern std::size_t kAssetCount;

// The content of web/<name>, if there is such a file.
std::optional<std::string_view> FindAsset(std::string_view name);

}  // namespace keyward::web
