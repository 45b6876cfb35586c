#include "engine/state/artifact_query.hpp"

#include <nlohmann/json.hpp>

#include "engine/core/ascii.hpp"
#include "engine/core/error.hpp"

namespace flow::state {

namespace {

[[noreturn]] void bad_meta(std::string_view arg, const std::string& why) {
  throw Error(ErrorKind::kInvalidInput, "--meta '" + std::string(arg) + "': " + why +
                                            "; expected KEY=VALUE, e.g. --meta source=synthetic "
                                            "or --meta hyperparameters.lr=0.01");
}

// $."a"."b": each part quoted, so a key may hold any character but '"'.
std::string json_path(const std::vector<std::string>& parts) {
  std::string out = "$";
  for (const auto& p : parts)
    out += ".\"" + p + "\"";
  return out;
}

}  // namespace

MetadataMatch parse_metadata_match(std::string_view arg) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos) bad_meta(arg, "no '='");
  const std::string_view key = arg.substr(0, eq);
  if (key.empty()) bad_meta(arg, "the key is empty");
  if (key.find('"') != std::string_view::npos) bad_meta(arg, "a key cannot hold '\"'");
  MetadataMatch m;
  size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    const std::string_view part =
        key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) {
      bad_meta(arg, "the key '" + std::string(key) +
                        "' has an empty part (dots separate the keys of nested objects)");
    }
    m.path.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  m.value = std::string(arg.substr(eq + 1));
  return m;
}

bool is_glob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

SqlFilter artifact_query_sql(const ArtifactQuery& q) {
  SqlFilter f;
  std::vector<std::string> terms;
  auto equals = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    terms.push_back(std::string(column) + " = ?");
    f.params.emplace_back(value);
  };
  if (!q.name.empty()) {
    terms.push_back(is_glob(q.name) ? "name GLOB ?" : "instr(name, ?) > 0");
    f.params.emplace_back(q.name);
  }
  if (!q.formats.empty()) {
    std::string marks;
    for (size_t i = 0; i < q.formats.size(); ++i)
      marks += i ? ", ?" : "?";
    terms.push_back("(lower(format) IN (" + marks + ") OR lower(encoding_format) IN (" + marks +
                    "))");
    for (int twice = 0; twice < 2; ++twice) {
      for (const auto& v : q.formats)
        f.params.emplace_back(ascii_lower(v));
    }
  }
  equals("kind", q.kind);
  equals("dag", q.dag);
  equals("run_id", q.run_id);
  if (!q.task.empty()) {
    terms.push_back("(task_id = ? OR instance_id = ?)");
    f.params.emplace_back(q.task);
    f.params.emplace_back(q.task);
  }
  for (const auto& m : q.metadata) {
    // json_each of a list is its elements (keys 0, 1, ...), of a scalar the scalar itself
    // (key NULL), of an object its members (text keys: never a match).
    terms.push_back(
        "EXISTS (SELECT 1 FROM json_each(artifacts.metadata_json, ?) AS m "
        "WHERE typeof(m.key) != 'text' AND ((m.type = 'text' AND m.value = ?) OR "
        "(m.type IN ('integer', 'real') AND m.value = ?) OR "
        "(m.type IN ('true', 'false', 'null') AND m.type = ?)))");
    f.params.emplace_back(json_path(m.path));
    f.params.emplace_back(m.value);
    const auto number = nlohmann::json::parse(m.value, nullptr, false);
    if (!number.is_discarded() && number.is_number()) {
      f.params.emplace_back(number.get<double>());
    } else {
      f.params.emplace_back(std::monostate{});
    }
    f.params.emplace_back(m.value);
  }
  for (size_t i = 0; i < terms.size(); ++i)
    f.where += (i ? " AND " : " WHERE ") + terms[i];
  if (q.limit > 0) {
    f.limit = " LIMIT ?";
    f.params.emplace_back(static_cast<long long>(q.limit));
  }
  return f;
}

}  // namespace flow::state
