// Fuzz target `template`: a task's `run` command with `{{ ... }}` references, then
// optionally a line `%%` and the value every reference stands for (parsed as JSON when it
// is JSON, else a string). Exercises Template::parse, check_shell_placement and render
// with shell quoting (engine/core/shell_scanner.hpp), and checks two promises:
//   - a quoted value is inert: feeding it to the scanner leaves the shell context where
//     it was (a value that changed it could end the author's quotes and run code);
//   - a command that check_shell_placement() accepts renders with a plain value.
#include <nlohmann/json.hpp>

#include "engine/core/shell_scanner.hpp"
#include "engine/dag/template.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace {

using flow::ShellScanner;
using flow::dag::Template;

const char* name(ShellScanner::Context c) {
  switch (c) {
    case ShellScanner::Context::kWord:
      return "word";
    case ShellScanner::Context::kSingle:
      return "'...'";
    case ShellScanner::Context::kDouble:
      return "\"...\"";
    case ShellScanner::Context::kBacktick:
      return "`...`";
    case ShellScanner::Context::kHeredoc:
      return "here-document";
    case ShellScanner::Context::kLiteralHeredoc:
      return "literal here-document";
    case ShellScanner::Context::kComment:
      return "comment";
  }
  return "?";
}

// Walks the template like render() does and checks that each quoted value is inert.
void check_values_inert(const Template& t, const std::string& value) {
  ShellScanner scanner;
  for (const auto& s : t.segments()) {
    try {
      if (!s.is_ref()) {
        scanner.feed(s.literal);
        continue;
      }
      if (s.ref->raw) {
        scanner.feed_value(value);
        continue;
      }
      const auto before = scanner.context();
      const std::string quoted = scanner.quote(value);
      scanner.feed_value(quoted);
      if (scanner.context() != before) {
        flow::fuzz::fail(std::string("quoted value moved the shell context from ") + name(before) +
                         " to " + name(scanner.context()) + ": " + quoted);
      }
    } catch (const std::invalid_argument&) {
      return;  // a place where no quoting is safe, or a here-document delimiter: refused
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = flow::fuzz::split_at_line(flow::fuzz::bytes(data, size), "%%");
  const std::string command(parts.before);
  const std::string value_text = parts.found ? std::string(parts.after) : "x";
  nlohmann::json value = nlohmann::json::parse(value_text, nullptr, false);
  if (value.is_discarded()) value = value_text;

  Template t;
  try {
    t = Template::parse(command);
  } catch (const std::invalid_argument&) {
    return 0;  // bad syntax: validation reports it at the task's line
  }
  (void)t.refs();
  (void)t.sole_ref();
  const std::string placement = flow::dag::check_shell_placement(t);
  const auto resolve = [&](const flow::dag::TemplateRef&) { return value; };
  const auto plain = [](const flow::dag::TemplateRef&) { return nlohmann::json("x"); };
  if (placement.empty()) {
    try {
      (void)flow::dag::render(t, plain, true);
    } catch (const std::runtime_error& e) {
      flow::fuzz::fail(std::string("check_shell_placement() accepted it but render() said: ") +
                       e.what());
    }
  }
  // value_text() makes JSON text of non-strings; a value that is not valid UTF-8 JSON
  // cannot reach here (json::parse rejects it), so any exception is a bug.
  std::string text;
  try {
    text = flow::dag::value_text(value);
  } catch (const std::exception& e) {
    flow::fuzz::fail(std::string("value_text: ") + e.what());
  }
  try {
    (void)flow::dag::render(t, resolve, true);
  } catch (const std::runtime_error&) {
    // "cannot fill {{ x }}: ..." is a task failure the user sees; fine.
  }
  (void)flow::dag::render(t, resolve, false);
  check_values_inert(t, text);
  return 0;
}
