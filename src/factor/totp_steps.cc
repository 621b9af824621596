#include "factor/totp_steps.h"

#include <unistd.h>

#include <charconv>

#include "fs/safe_file.h"
#include "store/account.h"
#include "store/store.h"

namespace keyward::factor {

namespace {

constexpr std::size_t kMaxStepsFileBytes = 4 << 20;

Result<fs::UniqueFd> OpenFolderOf(const std::string& path, std::string* name) {
  auto [dir, file] = store::SplitPath(path);
  *name = file;
  return fs::OpenDirectory(dir, fs::Ownership{geteuid()}, "the TOTP state folder");
}

}  // namespace

Result<UsedSteps> LoadUsedSteps(const std::string& path) {
  std::string name;
  auto dir = OpenFolderOf(path, &name);
  if (!dir) return Fail(dir.error());
  auto text = fs::ReadFileIfExistsAt(dir->get(), name, fs::Ownership{geteuid()}, kMaxStepsFileBytes,
                                     "the TOTP steps file");
  if (!text) return Fail(text.error());
  UsedSteps steps;
  if (!text->has_value()) return steps;
  std::string_view rest = **text;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    std::size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    std::int64_t step = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + space, step);
    std::string_view account = line.substr(space + 1);
    if (ec != std::errc() || p != line.data() + space || !store::ValidateUserName(account)) continue;
    std::int64_t& kept = steps[std::string(account)];
    if (step > kept) kept = step;
  }
  return steps;
}

Result<void> SaveUsedSteps(const std::string& path, const UsedSteps& steps, std::int64_t oldest) {
  std::string name;
  auto dir = OpenFolderOf(path, &name);
  if (!dir) return Fail(dir.error());
  std::string text;
  for (const auto& [account, step] : steps) {
    if (step >= oldest) text += std::to_string(step) + " " + account + "\n";
  }
  fs::FileMode mode;
  mode.mode = 0600;
  return fs::AtomicReplaceAt(dir->get(), name, text, mode);
}

}  // namespace keyward::factor
