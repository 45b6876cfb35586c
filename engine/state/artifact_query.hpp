#pragma once
// A search of the artifact registry (`flow artifacts search`, docs/ARTIFACTS.md): filters
// that AND together, each done in SQL (metadata fields with SQLite's JSON functions), so a
// search never loads rows it does not print. Empty fields match everything.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace flow::state {

// One `--meta KEY=VALUE`: the metadata field at `path` (KEY split at dots, so
// "hyperparameters.lr" is the field lr of the object hyperparameters) equals VALUE, or is a
// list holding an element that does. A text field matches VALUE's text; a number matches
// when VALUE is the same number ("7" matches 7 and 7.0); true, false and null match the
// words "true", "false" and "null".
struct MetadataMatch {
  std::vector<std::string> path;
  std::string value;
};

// "KEY=VALUE" (the first '=' splits; VALUE may be empty or hold '='). Throws an Error of
// kind kInvalidInput (exit 2) for text without '=', an empty key or key part ("a..b", ".a") or a
// key with '"'.
MetadataMatch parse_metadata_match(std::string_view key_equals_value);

struct ArtifactQuery {
  // A glob over the whole name (SQLite GLOB: `*`, `?`, `[...]`, case-sensitive) when it
  // holds one of `*?[`; otherwise a case-sensitive substring of the name.
  std::string name;
  // The row's format or media type equals one of these, ignoring case ("onnx" and
  // "application/onnx": engine/artifact/media_type.hpp's format_names()).
  std::vector<std::string> formats;
  std::string kind;  // "model", "dataset", "other"
  std::string dag;
  std::string task;  // a task id (every instance of it) or an instance id ("tiles[2]")
  std::string run_id;
  std::vector<MetadataMatch> metadata;
  int limit = 0;  // the newest `limit` matches; 0 = all
};

// True when `pattern` is a glob (holds `*`, `?` or `[`), not a substring.
bool is_glob(std::string_view pattern);

// The SQL of a query: "WHERE ..." (or "" for no filter) and "LIMIT ?" clauses over table
// `artifacts`, and the values of their parameters in order (text, a number, or SQL NULL).
using SqlValue = std::variant<std::monostate, std::string, double, long long>;
struct SqlFilter {
  std::string where;  // "" or " WHERE ... AND ..."
  std::string limit;  // "" or " LIMIT ?"
  std::vector<SqlValue> params;
};
SqlFilter artifact_query_sql(const ArtifactQuery& q);

}  // namespace flow::state
