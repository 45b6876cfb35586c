// Values substituted into every kind of place in a command line, run by the real /bin/sh:
// the shell must read exactly the value, and nothing in it may run.
#include "engine/core/shell_scanner.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "engine/dag/template.hpp"
#include "tests/support/temp_dir.hpp"

using flow::ShellScanner;

namespace {

// Renders `command` (with {{ v }} references) the way tasks are rendered.
std::string render(const std::string& command, const std::string& value) {
  auto tpl = flow::dag::Template::parse(command);
  return flow::dag::render(
      tpl, [&](const flow::dag::TemplateRef&) { return nlohmann::json(value); }, true);
}

std::string sh(const std::string& cmd) {
  std::unique_ptr<FILE, decltype(&pclose)> p(popen(cmd.c_str(), "r"), &pclose);
  std::string out;
  std::array<char, 256> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), p.get()))
    out.append(buf.data(), n);
  return out;
}

const std::vector<std::string>& hostile_values() {
  static const std::vector<std::string> values = {
      "plain",
      "a b",
      "'",
      "\"",
      "\\",
      "$HOME",
      "$(echo ran)",
      "`echo ran`",
      "x'; echo ran; '",
      "x\"; echo ran; \"",
      "line1\nline2",
      "\\\"$`'",
      "*",
      "~",
      "!x",
      "a\tb",
      "",
  };
  return values;
}

}  // namespace

TEST(ShellScanner, ValueBetweenWordsIsOneLiteralWord) {
  for (const auto& v : hostile_values())
    EXPECT_EQ(sh(render("printf '[%s]' {{ v }}", v)), "[" + v + "]") << v;
}

TEST(ShellScanner, ValueInsideDoubleQuotesIsReadLiterally) {
  for (const auto& v : hostile_values())
    EXPECT_EQ(sh(render("printf '[%s]' \"pre {{ v }} post\"", v)), "[pre " + v + " post]") << v;
}

TEST(ShellScanner, ValueInsideSingleQuotesIsReadLiterally) {
  for (const auto& v : hostile_values())
    EXPECT_EQ(sh(render("printf '[%s]' 'pre {{ v }} post'", v)), "[pre " + v + " post]") << v;
}

TEST(ShellScanner, ValueInsideCommandSubstitutionInDoubleQuotesIsOneWord) {
  for (const auto& v : hostile_values())
    EXPECT_EQ(sh(render("printf '[%s]' \"$(printf '%s' {{ v }})\"", v)), "[" + v + "]") << v;
}

TEST(ShellScanner, ValueInAHereDocumentIsReadLiterally) {
  for (const auto& v : hostile_values()) {
    EXPECT_EQ(sh(render("cat <<EOF\n[{{ v }}]\nEOF\n", v)), "[" + v + "]\n") << v;
    EXPECT_EQ(sh(render("cat <<'EOF'\n[{{ v }}]\nEOF\n", v)), "[" + v + "]\n") << v;
    EXPECT_EQ(sh(render("cat <<-EOF\n\t[{{ v }}]\n\tEOF\n", v)), "[" + v + "]\n") << v;
  }
}

TEST(ShellScanner, CommandsAfterAHereDocumentAreBackBetweenWords) {
  EXPECT_EQ(sh(render("cat <<EOF\nbody\nEOF\nprintf '[%s]' {{ v }}", "a b")), "body\n[a b]");
  EXPECT_EQ(sh(render("cat <<A; cat <<'B'\n1\nA\n2 $x\nB\nprintf '[%s]' {{ v }}", "c d")),
            "1\n2 $x\n[c d]");
}

TEST(ShellScanner, ValueInACommentCannotEndIt) {
  EXPECT_EQ(sh(render("printf ok # {{ v }}", "x\nprintf ran")), "ok");
}

TEST(ShellScanner, ValueThatWouldEndAHereDocumentIsRefused) {
  try {
    render("cat <<EOF\n{{ v }}\nEOF\n", "EOF");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ends the here-document early"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(render("cat <<EOF\n{{ v }}\nEOF\n", "x\nEOF\necho ran"), std::runtime_error);
}

// Found by fuzz_template: an empty delimiter (<<'') is ended by an empty line, which a value
// makes with two newlines and no character of its own on the line; and a value's newline
// can put the template's own text on a line of its own that equals the delimiter.
TEST(ShellScanner, ValueWhoseNewlinesEndAHereDocumentIsRefused) {
  EXPECT_THROW(render("cat <<''\nx {{ v }}\n\n", "a\n\necho ran"), std::runtime_error);
  EXPECT_THROW(render("cat <<EOF\n{{ v }}EOF\nEOF\n", "\n"), std::runtime_error);
  EXPECT_EQ(sh(render("cat <<EOF\n{{ v }}\nEOF\n", "a\nb")), "a\nb\n");
}

TEST(ShellScanner, PlacesWhereNoQuotingIsSafeAreRefusedByValidation) {
  using flow::dag::check_shell_placement;
  using flow::dag::Template;
  EXPECT_NE(check_shell_placement(Template::parse("echo `echo {{ v }}`")).find("$(...)"),
            std::string::npos);
  EXPECT_NE(check_shell_placement(Template::parse("echo ${{ v }}")).find("'$'"), std::string::npos);
  EXPECT_NE(check_shell_placement(Template::parse("echo \"\\{{ v }}\"")).find("backslash"),
            std::string::npos);
  EXPECT_EQ(check_shell_placement(Template::parse("echo \"$HOME/{{ v }}\" '{{ v }}' {{ v }}")), "");
  EXPECT_EQ(check_shell_placement(Template::parse("echo '`{{ v }}`' \\$ {{ v }}")), "");
}

TEST(ShellScanner, RawValuesAreNotQuotedButMoveTheContext) {
  auto tpl = flow::dag::Template::parse("printf '[%s]' {{ params.a | raw }} {{ params.b }}\"");
  auto out = flow::dag::render(
      tpl,
      [](const flow::dag::TemplateRef& r) {
        return nlohmann::json(r.path.back() == "a" ? "\"x" : "$(echo ran)");
      },
      true);
  // The raw value opened a double quote, so b is escaped for inside it.
  EXPECT_EQ(sh(out), "[x $(echo ran)]");
}

TEST(ShellScanner, ContextFollowsTheAuthorsQuoting) {
  ShellScanner s;
  EXPECT_EQ(s.context(), ShellScanner::Context::kWord);
  s.feed("echo \"a 'b' ");
  EXPECT_EQ(s.context(), ShellScanner::Context::kDouble);
  s.feed("$(x ");
  EXPECT_EQ(s.context(), ShellScanner::Context::kWord);
  s.feed("(y) ");
  EXPECT_EQ(s.context(), ShellScanner::Context::kWord);
  s.feed(") \\\" ");
  EXPECT_EQ(s.context(), ShellScanner::Context::kDouble);
  s.feed("\" 'it''s ");
  EXPECT_EQ(s.context(), ShellScanner::Context::kSingle);
}

// Found by the `template` fuzz target. Inside a quoted here-document delimiter the
// scanner said "between words", so the value's first quote closed the author's and the
// rest ran: `cat <<'EO{{ v }}F'` with v = "x; echo ran" ran `echo ranF`.
TEST(ShellScanner, ValueInAHereDocumentDelimiterIsRefused) {
  using flow::dag::check_shell_placement;
  using flow::dag::Template;
  EXPECT_THROW(render("cat <<'EO{{ v }}F'\nbody\nEOF\n", "x; echo ran"), std::runtime_error);
  for (const char* cmd : {"cat <<'EO{{ v }}F'\nb\n", "cat <<{{ v }}\nb\n", "cat <<-EOF{{ v }}\n",
                          "cat << \"{{ v }}\"\n"}) {
    EXPECT_NE(check_shell_placement(Template::parse(cmd)).find("here-document's delimiter"),
              std::string::npos)
        << cmd;
  }
  // After the delimiter word, in the document and after it, values are fine.
  EXPECT_EQ(
      check_shell_placement(Template::parse("cat <<'EOF' {{ v }}\n{{ v }}\nEOF\necho {{ v }}")),
      "");
  EXPECT_EQ(sh(render("cat <<'EOF' -\n{{ v }}\nEOF\n", "$(echo ran)")), "$(echo ran)\n");
}

// Found by the `template` fuzz target: validation skipped raw values, so `{{ a | raw }}#`
// looked like the start of a comment and hid a later `{{ b }}` inside `...`, which only
// failed when the task ran. A raw value now counts as a plain word there too.
TEST(ShellScanner, ValidationReadsRawValuesAsAWord) {
  using flow::dag::check_shell_placement;
  using flow::dag::Template;
  auto tpl = Template::parse("echo {{ a | raw }}# `echo {{ b }}`");
  EXPECT_NE(check_shell_placement(tpl).find("$(...)"), std::string::npos);
  EXPECT_EQ(check_shell_placement(Template::parse("echo {{ a | raw }} # `{{ b }}`")), "");
}
