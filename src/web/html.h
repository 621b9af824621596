// A tiny template renderer for keyward-web's pages. Templates hold
// {{name}} placeholders and nothing else: no logic, no loops. Every value is
// text and is HTML-escaped when it is put in; the only way to insert markup
// is a SafeHtml, which only this module can make (by escaping or by
// rendering a template), so a value from a user or from keywardd can never
// become markup.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace keyward::web {

// Escapes the five characters that matter in element content and in quoted
// attribute values: & < > " '. NUL becomes U+FFFD (browsers do the same,
// but a NUL has no business in a page).
std::string EscapeHtml(std::string_view text);

// Markup that is safe to put in a page as is.
class SafeHtml {
 public:
  SafeHtml() = default;
  static SafeHtml Escape(std::string_view text) { return SafeHtml(EscapeHtml(text)); }

  const std::string& str() const { return html_; }
  bool empty() const { return html_.empty(); }
  SafeHtml& operator+=(const SafeHtml& other) {
    html_ += other.html_;
    return *this;
  }

 private:
  friend class Template;
  explicit SafeHtml(std::string html) : html_(std::move(html)) {}
  std::string html_;
};

// One value for a placeholder: text (escaped) or SafeHtml (as is). It only
// refers to the caller's data, which must outlive the Render call.
class Value {
 public:
  Value(std::string_view text) : text_(text) {}  // NOLINT: implicit on purpose
  Value(const std::string& text) : text_(text) {}  // NOLINT
  Value(const char* text) : text_(text) {}  // NOLINT
  Value(const SafeHtml& html) : html_(&html) {}  // NOLINT

 private:
  friend class Template;
  std::string_view text_;
  const SafeHtml* html_ = nullptr;
};

using Args = std::vector<std::pair<std::string_view, Value>>;

// A template compiled once, at start, into literal runs and placeholders.
class Template {
 public:
  // Refuses an unclosed "{{", a name that is not [a-z0-9_]+, and a
  // placeholder inside a tag that is not inside a quoted attribute value
  // (where escaping would not be enough).
  static Result<Template> Compile(std::string_view text);

  // Fills every placeholder from `args`; a placeholder without an argument
  // renders as nothing (the pages' tests render every template fully).
  SafeHtml Render(const Args& args) const;

  const std::vector<std::string>& names() const { return names_; }

 private:
  struct Piece {
    std::string text;  // a literal run, or a placeholder's name
    bool placeholder = false;
  };
  std::vector<Piece> pieces_;
  std::vector<std::string> names_;  // every placeholder, in order of first use
  std::size_t size_hint_ = 0;
};

}  // namespace keyward::web
