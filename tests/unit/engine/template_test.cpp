#include "engine/dag/template.hpp"

#include <gtest/gtest.h>

using flow::dag::render;
using flow::dag::Template;
using flow::dag::TemplateRef;

namespace {
nlohmann::json lookup(const TemplateRef& r) {
  if (r.dotted() == "params.evil") return "'; touch /tmp/x; '";
  if (r.dotted() == "params.n") return 3;
  if (r.dotted() == "params.list") return nlohmann::json::array({1, 2});
  throw std::runtime_error("unknown " + r.dotted());
}
}  // namespace

TEST(Template, SubstitutedValuesAreShellQuoted) {
  auto t = Template::parse("echo {{ params.evil }} {{params.n}}");
  EXPECT_EQ(render(t, lookup, true), "echo ''\"'\"'; touch /tmp/x; '\"'\"'' 3");
}

TEST(Template, RawFilterOptsOutOfQuoting) {
  auto t = Template::parse("echo {{ params.evil | raw }}");
  EXPECT_EQ(render(t, lookup, true), "echo '; touch /tmp/x; '");
}

TEST(Template, NonShellRenderingIsVerbatim) {
  auto t = Template::parse("{{ params.list }}");
  EXPECT_EQ(render(t, lookup, false), "[1,2]");
}

TEST(Template, SyntaxErrors) {
  EXPECT_THROW(Template::parse("echo {{ params.x"), std::invalid_argument);
  EXPECT_THROW(Template::parse("echo {{ }}"), std::invalid_argument);
  EXPECT_THROW(Template::parse("echo {{ params.x | upper }}"), std::invalid_argument);
  EXPECT_THROW(Template::parse("echo {{ params..x }}"), std::invalid_argument);
}

TEST(Template, SoleRefDetection) {
  EXPECT_NE(Template::parse(" {{ tasks.a.outputs.b }} ").sole_ref(), nullptr);
  EXPECT_EQ(Template::parse("x {{ tasks.a.outputs.b }}").sole_ref(), nullptr);
}
