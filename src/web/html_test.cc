// The template renderer: every value is escaped, only SafeHtml is not, and
// templates that would let a value out of its place are refused.
#include "web/html.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace keyward::web {
namespace {

// Must-escape table: each input, and exactly what it must become.
TEST(EscapeHtml, MustEscape) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", ""},
      {"plain text 123", "plain text 123"},
      {"<", "&lt;"},
      {">", "&gt;"},
      {"&", "&amp;"},
      {"\"", "&quot;"},
      {"'", "&#39;"},
      {"<>&\"'", "&lt;&gt;&amp;&quot;&#39;"},
      {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
      {"\"><script>alert('x')</script>", "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
      {"' onmouseover='alert(1)", "&#39; onmouseover=&#39;alert(1)"},
      {"&amp;", "&amp;amp;"},  // already-escaped text is text: escaped again
      {"<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"},
      {std::string("a\0b", 3), "a\xEF\xBF\xBD" "b"},
      {"ключ ✓", "ключ ✓"},  // UTF-8 passes through
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(EscapeHtml(in), out) << in;
}

TEST(Template, EscapesEveryTextValue) {
  auto t = Template::Compile("<p title=\"{{a}}\">{{b}}</p>");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  std::string evil = "<script>alert(\"x\")</script>&'";
  EXPECT_EQ(t->Render({{"a", evil}, {"b", evil}}).str(),
            "<p title=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\">"
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>");
}

TEST(Template, InsertsSafeHtmlAsIs) {
  auto row = Template::Compile("<li>{{x}}</li>");
  auto list = Template::Compile("<ul>{{rows}}</ul>");
  ASSERT_TRUE(row && list);
  SafeHtml rows = row->Render({{"x", "<b>"}});
  rows += row->Render({{"x", "2"}});
  EXPECT_EQ(list->Render({{"rows", rows}}).str(), "<ul><li>&lt;b&gt;</li><li>2</li></ul>");
  EXPECT_EQ(SafeHtml::Escape("<i>").str(), "&lt;i&gt;");
}

TEST(Template, RepeatedAndMissingPlaceholders) {
  auto t = Template::Compile("{{a}}-{{a}}-{{b}}.");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->Render({{"a", "1"}}).str(), "1-1-.");
  EXPECT_EQ(t->names(), (std::vector<std::string>{"a", "b"}));
}

TEST(Template, LiteralOnly) {
  auto t = Template::Compile("<p>no placeholders } { here</p>");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->Render({}).str(), "<p>no placeholders } { here</p>");
}

TEST(Template, RefusesBrokenOrUnsafeTemplates) {
  for (const char* text : {
           "{{unclosed",
           "{{}}",
           "{{Upper}}",
           "{{a b}}",
           "{{a-b}}",
           "<a {{attrs}}>",          // a value could add attributes
           "<a href={{url}}>",       // unquoted attribute value
           "<input value=\"x\" {{more}}>",
       }) {
    EXPECT_FALSE(Template::Compile(text).has_value()) << text;
  }
  EXPECT_TRUE(Template::Compile("<a title='{{t}}' href=\"/x?{{q}}\">{{body}}</a>").has_value());
}

}  // namespace
}  // namespace keyward::web
