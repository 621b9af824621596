#include "store/keys_index.h"

#include <algorithm>
#include <charconv>

#include "base/bytes.h"
#include "key/crypto.h"

namespace keyward::store {

namespace {

constexpr std::string_view kMagic = "keyward-index 3 ";

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> Split(std::string_view s, char sep, std::size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    std::size_t p = s.find(sep);
    if (p == std::string_view::npos) break;
    parts.push_back(s.substr(0, p));
    s = s.substr(p + 1);
  }
  parts.push_back(s);
  return parts;
}

constexpr std::size_t kChecksumHex = 64;

void AppendHex(std::string& out, const key::Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::uint8_t b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
}

tl::unexpected<Error> Corrupt(std::string why) { return Fail("bad_index", "keys.index is unusable: " + std::move(why)); }

template <typename T>
void AppendNumber(std::string& out, T value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// Written straight into the index (no temporary strings): a change of an
// account of thousands of keys writes every record.
void AppendRecord(std::string& out, const IndexRecord& r) {
  out += r.fingerprint;
  out += '\t';
  AppendNumber(out, r.expiry);
  out += '\t';
  AppendNumber(out, r.inode);
  out += '\t';
  AppendNumber(out, r.size);
  out += '\t';
  AppendNumber(out, r.mtime_ns);
  out += '\t';
  out += r.file;
  out += '\t';
  out += r.line;
  out += '\n';
}

}  // namespace

std::string BuildIndex(std::int64_t users_mtime_ns, const std::string& rendered_sha256,
                       const std::string& previous_sha256, std::vector<IndexRecord> records,
                       std::string_view policy) {
  // Cert authorities first (by file), then every key by fingerprint: one
  // sort, in place (a stable partition would allocate a copy of them all).
  auto cas = static_cast<std::size_t>(
      std::count_if(records.begin(), records.end(), [](const IndexRecord& r) { return r.cert_authority; }));
  std::sort(records.begin(), records.end(), [](const IndexRecord& a, const IndexRecord& b) {
    if (a.cert_authority != b.cert_authority) return a.cert_authority;
    return a.cert_authority ? a.file < b.file : a.fingerprint < b.fingerprint;
  });
  std::string out(kMagic);
  out += std::to_string(users_mtime_ns) + " " + rendered_sha256 + " " +
         (previous_sha256.empty() ? std::string("-") : previous_sha256) + " " + std::to_string(records.size()) + " " +
         std::to_string(cas) + " " + std::string(policy.empty() ? "-" : policy) + "\n";
  std::size_t bytes = out.size() + 32;
  for (const IndexRecord& r : records) bytes += r.fingerprint.size() + r.file.size() + r.line.size() + 80;
  out.reserve(bytes);
  for (const IndexRecord& r : records) AppendRecord(out, r);
  auto digest = key::Sha256(AsBytes(out));
  out += "end " + std::to_string(records.size()) + " ";
  AppendHex(out, digest);
  out += '\n';
  return out;
}

Result<IndexRecord> ParseIndexRecord(std::string_view line) {
  auto f = Split(line, '\t', 7);
  if (f.size() != 7) return Corrupt("a record has the wrong number of fields");
  IndexRecord r;
  r.fingerprint = std::string(f[0]);
  if (!ParseNumber(f[1], r.expiry) || !ParseNumber(f[2], r.inode) || !ParseNumber(f[3], r.size) ||
      !ParseNumber(f[4], r.mtime_ns)) {
    return Corrupt("a record has a bad number");
  }
  r.file = std::string(f[5]);
  r.line = std::string(f[6]);
  return r;
}

Result<IndexView> IndexView::Open(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) return Corrupt("it does not start with the index header");
  std::size_t nl = bytes.find('\n');
  if (nl == std::string_view::npos) return Corrupt("the header has no end");
  auto h = Split(bytes.substr(kMagic.size(), nl - kMagic.size()), ' ', 6);
  IndexView view;
  if (h.size() != 6 || h[5].empty() || h[5].find(' ') != std::string_view::npos || !ParseNumber(h[0], view.header_.users_mtime_ns) || !ParseNumber(h[3], view.header_.count) ||
      !ParseNumber(h[4], view.header_.cert_authorities) || view.header_.cert_authorities > view.header_.count) {
    return Corrupt("the header is malformed");
  }
  view.header_.rendered_sha256 = std::string(h[1]);
  if (h[2] != "-") view.header_.previous_sha256 = std::string(h[2]);
  view.header_.policy = std::string(h[5]);
  // A torn or truncated index lacks its trailer.
  const std::string trailer_start = "end " + std::to_string(view.header_.count) + " ";
  const std::size_t trailer_size = trailer_start.size() + kChecksumHex + 1;
  if (bytes.size() < nl + 1 + trailer_size || bytes.back() != '\n' ||
      bytes.substr(bytes.size() - trailer_size, trailer_start.size()) != trailer_start) {
    return Corrupt("the trailer is missing");
  }
  view.checksum_ = bytes.substr(bytes.size() - 1 - kChecksumHex, kChecksumHex);
  if (view.checksum_.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return Corrupt("the trailer is malformed");
  }
  view.hashed_ = bytes.substr(0, bytes.size() - trailer_size);
  std::string_view records = bytes.substr(nl + 1, bytes.size() - nl - 1 - trailer_size);
  // Split off the cert-authority records, which come first.
  std::size_t pos = 0;
  for (std::size_t i = 0; i < view.header_.cert_authorities; ++i) {
    std::size_t e = records.find('\n', pos);
    if (e == std::string_view::npos) return Corrupt("fewer records than the header says");
    pos = e + 1;
  }
  view.cas_ = records.substr(0, pos);
  view.body_ = records.substr(pos);
  return view;
}

bool IndexView::Intact() const {
  std::string hex;
  hex.reserve(kChecksumHex);
  AppendHex(hex, key::Sha256(AsBytes(hashed_)));
  return hex == checksum_;
}

std::vector<IndexRecord> IndexView::CertAuthorities() const {
  std::vector<IndexRecord> out;
  std::string_view rest = cas_;
  while (!rest.empty()) {
    std::size_t e = rest.find('\n');
    auto r = ParseIndexRecord(rest.substr(0, e));
    if (r) {
      r->cert_authority = true;
      out.push_back(std::move(*r));
    }
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 1);
  }
  return out;
}

Result<std::vector<IndexRecord>> IndexView::AllRecords() const {
  std::vector<IndexRecord> out;
  out.reserve(header_.count);
  const std::pair<std::string_view, bool> parts[] = {{cas_, true}, {body_, false}};
  for (auto [part, cert_authority] : parts) {
    while (!part.empty()) {
      std::size_t e = part.find('\n');
      auto r = ParseIndexRecord(part.substr(0, e));
      if (!r) return Fail(r.error());
      r->cert_authority = cert_authority;
      out.push_back(std::move(*r));
      part = e == std::string_view::npos ? std::string_view() : part.substr(e + 1);
    }
  }
  if (out.size() != header_.count) return Corrupt("it holds another number of records than its header says");
  return out;
}

std::optional<IndexRecord> IndexView::Find(std::string_view fingerprint) const {
  // Binary search over variable-length lines: probe a byte offset, move to
  // the start of the line that holds it, compare its key.
  std::size_t lo = 0, hi = body_.size();  // lines starting in [lo, hi)
  while (lo < hi) {
    std::size_t mid = lo + (hi - lo) / 2;
    std::size_t start = mid == 0 ? 0 : body_.rfind('\n', mid - 1);
    start = (mid == 0 || start == std::string_view::npos) ? 0 : start + 1;
    if (start < lo) start = lo;
    std::size_t end = body_.find('\n', start);
    if (end == std::string_view::npos) end = body_.size();
    std::string_view line = body_.substr(start, end - start);
    std::string_view key = line.substr(0, line.find('\t'));
    if (key == fingerprint) {
      auto r = ParseIndexRecord(line);
      if (!r) return std::nullopt;
      return std::move(*r);
    }
    if (key < fingerprint) {
      lo = end + 1;
    } else {
      hi = start;
    }
  }
  return std::nullopt;
}

}  // namespace keyward::store
