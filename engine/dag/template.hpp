#pragma once
// `{{ name.path }}` templates in task commands (docs/REFERENCE.md §3.10). Parsing is
// separate from rendering so that validation can check every reference before anything
// runs: an unknown name is a validation error, never an empty string. Rendered values are
// shell-quoted unless the reference says `| raw`.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/boxed.hpp"

namespace flow::dag {

struct TemplateRef {
  std::vector<std::string> path;  // "tasks.t.outputs.k" -> {tasks, t, outputs, k}
  bool raw = false;               // `| raw`: substitute without quoting
  std::string text;               // the reference as written, for messages
  std::string dotted() const;
};

class Template {
 public:
  // Literal text, or a reference. The reference is on the heap: every task's command is a
  // template, and most are literal text only (a DAG of 1,000,000 tasks keeps them all).
  struct Segment {
    std::string literal;     // used when !is_ref()
    Boxed<TemplateRef> ref;  // set for a reference
    bool is_ref() const { return ref.has_value(); }
  };

  // Throws std::invalid_argument with a message ("unterminated '{{'", ...) on bad syntax.
  static Template parse(std::string_view text);

  const std::vector<Segment>& segments() const { return segments_; }
  std::vector<TemplateRef> refs() const;
  bool has_refs() const;
  // A template that is exactly one reference ("{{ x }}" with only whitespace around).
  const TemplateRef* sole_ref() const;

 private:
  std::vector<Segment> segments_;
};

// Looks up a reference; throws std::runtime_error with a user-facing message if the value
// is not available.
using Resolver = std::function<nlohmann::json(const TemplateRef&)>;

// The text of a value as substituted: strings as-is, everything else as compact JSON.
std::string value_text(const nlohmann::json& v);

// Renders; `shell` quotes each substituted value (unless raw) for the place it has in the
// shell command line (between words, inside '...' or "...", in a here-document: see
// ShellScanner). Throws std::runtime_error ("cannot fill {{ x }}: ...") where no quoting is
// safe.
std::string render(const Template& t, const Resolver& resolve, bool shell);

// Where a command template puts a value that cannot be quoted safely whatever the value
// (inside `...`, right after a backslash or a `$`, in a here-document's `<<WORD`): the
// reason, or "" if every place is fine. Raw values are taken to be a plain word.
std::string check_shell_placement(const Template& t);

}  // namespace flow::dag
