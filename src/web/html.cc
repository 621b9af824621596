#include "web/html.h"

#include <algorithm>

namespace keyward::web {

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

bool IsNameChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// Where the scanner is in the markup, to tell whether a placeholder sits in
// element content or a quoted attribute value (fine) or loose in a tag
// (refused: `<a {{x}}>` would let a value add attributes).
enum class Context { kText, kTag, kDoubleQuoted, kSingleQuoted };

Context Advance(Context context, std::string_view literal) {
  for (char c : literal) {
    switch (context) {
      case Context::kText: if (c == '<') context = Context::kTag; break;
      case Context::kTag:
        if (c == '>') context = Context::kText;
        else if (c == '"') context = Context::kDoubleQuoted;
        else if (c == '\'') context = Context::kSingleQuoted;
        break;
      case Context::kDoubleQuoted: if (c == '"') context = Context::kTag; break;
      case Context::kSingleQuoted: if (c == '\'') context = Context::kTag; break;
    }
  }
  return context;
}

}  // namespace

Result<Template> Template::Compile(std::string_view text) {
  Template t;
  Context context = Context::kText;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    std::string_view literal = text.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos);
    if (!literal.empty()) {
      t.pieces_.push_back({std::string(literal), false});
      t.size_hint_ += literal.size();
      context = Advance(context, literal);
    }
    if (open == std::string_view::npos) break;
    std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return Fail("bad_template", "a \"{{\" is not closed");
    std::string_view name = text.substr(open + 2, close - open - 2);
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return Fail("bad_template", "placeholder \"" + std::string(name) + "\" is not [a-z0-9_]+");
    }
    if (context == Context::kTag) {
      return Fail("bad_template", "placeholder \"" + std::string(name) + "\" is inside a tag but not in quotes");
    }
    t.pieces_.push_back({std::string(name), true});
    if (std::find(t.names_.begin(), t.names_.end(), name) == t.names_.end()) t.names_.emplace_back(name);
    pos = close + 2;
  }
  return t;
}

SafeHtml Template::Render(const Args& args) const {
  std::string out;
  out.reserve(size_hint_ + 256);
  for (const Piece& piece : pieces_) {
    if (!piece.placeholder) {
      out += piece.text;
      continue;
    }
    for (const auto& [name, value] : args) {
      if (name != piece.text) continue;
      if (value.html_ != nullptr) {
        out += value.html_->str();
      } else {
        out += EscapeHtml(value.text_);
      }
      break;
    }
  }
  return SafeHtml(std::move(out));
}

}  // namespace keyward::web
