#include "cli/lint.h"

#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "authkeys/line.h"
#include "cli/terminal_text.h"
#include "key/fingerprint.h"

namespace keyward::cli {

namespace {

struct Problem {
  std::size_t line;
  bool error;
  std::string code;
  std::string message;
};

std::string FormatUtc(std::uint64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

CommandOutput RunLint(const LintRequest& request) {
  CommandOutput result;
  std::vector<Problem> problems;
  std::unordered_map<std::string, std::size_t> first_line_of_key;
  std::size_t keys = 0;
  std::size_t errors = 0;

  std::string_view rest = request.content;
  std::size_t line_number = 0;
  while (!rest.empty()) {
    ++line_number;
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);

    auto parsed = authkeys::ParseAuthorizedKeysLine(line);
    if (!parsed) {
      problems.push_back({line_number, true, parsed.error().code, parsed.error().message});
      ++errors;
      continue;
    }
    if (parsed->kind != authkeys::LineKind::kKey) continue;
    ++keys;
    const authkeys::AuthorizedKey& entry = *parsed->entry;
    for (const Error& e : key::CheckKeyPolicy(entry.key, request.policy)) {
      problems.push_back({line_number, false, e.code, e.message});
    }
    std::string blob(AsText(entry.key.plain_blob()));
    auto [it, inserted] = first_line_of_key.emplace(std::move(blob), line_number);
    if (!inserted) {
      problems.push_back({line_number, false, "duplicate_key",
                          "the same key as line " + std::to_string(it->second) +
                              " (" + key::Fingerprint(entry.key) + "); sshd only uses the first, remove one"});
    }
    if (entry.options.expiry_time != 0 && request.now > 0 &&
        entry.options.expiry_time <= static_cast<std::uint64_t>(request.now)) {
      problems.push_back({line_number, false, "expired",
                          "the key expired on " + FormatUtc(entry.options.expiry_time) +
                              "; sshd refuses it, remove it or give it a new expiry-time"});
    }
    if (entry.key.is_certificate() && !entry.options.cert_authority) {
      problems.push_back({line_number, false, "certificate_line",
                          "a certificate on an authorized_keys line only works for its own key; trust the CA "
                          "with cert-authority instead"});
    }
  }

  if (request.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const Problem& p : problems) {
      list.push_back({{"line", p.line},
                      {"severity", p.error ? "error" : "warning"},
                      {"code", p.code},
                      {"message", p.message}});
    }
    nlohmann::json doc = {{"file", request.display_name},
                          {"lines", line_number},
                          {"keys", keys},
                          {"errors", errors},
                          {"warnings", problems.size() - errors},
                          {"ok", errors == 0},
                          {"problems", list}};
    result.out = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    for (const Problem& p : problems) {
      result.out += request.display_name + ":" + std::to_string(p.line) + ": ";
      if (!p.error) result.out += "warning: ";
      AppendTerminalSafe(p.message, result.out);
      result.out += "\n";
    }
    result.err = request.display_name + ": " + std::to_string(keys) + " keys, " + std::to_string(errors) +
                 " errors, " + std::to_string(problems.size() - errors) + " warnings\n";
  }
  result.exit_code = errors == 0 ? 0 : 1;
  return result;
}

}  // namespace keyward::cli
