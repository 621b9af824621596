// Fuzzes the authorized_keys options parser. Besides not crashing, every
// accepted input must obey the writer's promise: its canonical form reads
// back to equal Options, consumes itself whole, and is its own canonical
// form. Any break of that promise aborts, so libFuzzer keeps the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "authkeys/options.h"

namespace {

[[noreturn]] void Broken(const char* what, std::string_view canonical) {
  std::fprintf(stderr, "options_fuzz: %s\ncanonical: %.*s\n", what, static_cast<int>(canonical.size()),
               canonical.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward::authkeys;
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseOptions(input);
  if (!parsed) {
    if (parsed.error().code.empty() || parsed.error().message.empty()) Broken("an error without code or message", "");
    return 0;
  }
  if (parsed->length > size) Broken("consumed more than the input", "");

  const std::string canonical = SerializeOptions(parsed->options);
  auto again = ParseOptions(canonical);
  if (!again) Broken(("canonical form refused: " + again.error().message).c_str(), canonical);
  if (!(again->options == parsed->options)) Broken("canonical form reads back to different options", canonical);
  if (again->length != canonical.size()) Broken("canonical form is not consumed whole", canonical);
  if (SerializeOptions(again->options) != canonical) Broken("canonical form is not a fixed point", canonical);
  return 0;
}
