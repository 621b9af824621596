#include "web/assets.h"

namespace keyward::web {

std::optional<std::string_view> FindAsset(std::string_view name) {
  for (std::size_t i = 0; i < kAssetCount; ++i) {
    if (kAssets[i].first == name) return kAssets[i].second;
  }
  return std::nullopt;
}

}  // namespace keyward::web
