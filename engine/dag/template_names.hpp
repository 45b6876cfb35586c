#pragma once
// Every name a `{{ ... }}` reference may use, in ONE table: validation accepts exactly
// these (engine/dag/validate.cpp), the run resolves exactly these
// (engine/run/template_resolver.cpp), and docs/REFERENCE.md lists exactly these (a test
// compares the three). Where a name may be used and what else must hold (the parameter
// exists, the task is upstream, ...) is validation's business; this table only says which
// shapes of name exist.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flow::dag {

enum class NameKind {
  kParam,       // params.X
  kRunField,    // run.id, run.dag, run.dir, run.logical_date, run.data_interval_*
  kTaskOutput,  // tasks.T.outputs.K
  kBestParam,   // tasks.T.best.params.X
  kBestField,   // tasks.T.best.params_json | metric | trial | epochs
  kTrialParam,  // trial.params.X
  kTrialField,  // trial.params_json | epochs | id
  kItem,        // item
  kItemField,   // item.F (one or more fields: item.a.b)
  kSecret,      // secrets.X
};

struct TemplateName {
  // As a user writes it: lower-case segments literally; T (task), K (output key), X (a
  // parameter name) and F (a field) are placeholders for one segment; a trailing F also
  // takes further fields.
  std::string_view pattern;
  NameKind kind;
  std::string_view meaning;  // one line, for messages and the reference
};

// The whole table, in the order the reference lists it.
std::span<const TemplateName> template_names();

// The entry a reference's path matches, or nullopt.
std::optional<TemplateName> match_template_name(const std::vector<std::string>& path);

// "params.X, run.id, ..." of the entries whose pattern starts with `head` (all if empty):
// the hint in "unknown name" messages.
std::string template_names_starting(std::string_view head);

}  // namespace flow::dag
