// Fuzzes the public key readers with the same input twice:
//   - as text, through key::ReadKeyText() ("<type> <base64>[ <comment>]"),
//   - as a wire blob, through key::ParsePublicKeyBlob() (default options:
//     certificates allowed, their signatures verified).
// Every accepted key must satisfy fuzz::CheckKey() (fuzz_checks.h): it
// re-parses to the same key, its plain blob is a canonical plain key, its
// text form reads back, bits() > 0, and so on.
//
// Seeds: tests/fuzz/corpus/key_fuzz/ (text and blob forms of the OpenSSH
// test keys and certificates; see make_seeds.py). Run: scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace keyward;

  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto read = key::ReadKeyText(text)) {
    FUZZ_CHECK(read->comment_offset <= text.size());
    fuzz::CheckKey(read->key, key::BlobOptions{});
  }

  if (auto parsed = key::ParsePublicKeyBlob(Bytes{data, data + size}, {})) {
    FUZZ_CHECK(Equal(parsed->blob(), ByteView(data, size)));  // decoders consume exactly
    fuzz::CheckKey(*parsed, key::BlobOptions{});
  }
  return 0;
}
