// The schemas of `flow schema` name the keys the loaders know, no more and no fewer: a key
// added to the loader and not to the schema (or the other way round) fails here, before an
// editor flags a valid file or misses a typo.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/core/error.hpp"
#include "engine/dag/dag_schema.hpp"
#include "engine/dag/loader.hpp"
#include "engine/site/site.hpp"
#include "engine/site/site_schema.hpp"

namespace {

using Keys = std::set<std::string>;

Keys properties(const nlohmann::json& s) {
  Keys out;
  for (const auto& [k, v] : s.at("properties").items())
    out.insert(k);
  return out;
}

// The keys the loader lists in its "unknown key" message for `yaml` (which has one).
Keys allowed_keys_of(const std::string& yaml) {
  std::string message;
  try {
    flow::dag::load_dag_text(yaml, "x.yaml");
  } catch (const flow::InputError& e) {
    for (const auto& d : e.diagnostics()) {
      if (d.message.find("unknown key 'zzz'") != std::string::npos) message = d.message;
    }
  }
  const std::string tag = "allowed keys: ";
  const auto at = message.find(tag);
  EXPECT_NE(at, std::string::npos) << "no unknown-key message for:\n" << yaml;
  Keys out;
  if (at == std::string::npos) return out;
  std::string list = message.substr(at + tag.size());
  for (size_t pos = 0; pos <= list.size();) {
    const size_t comma = list.find(", ", pos);
    out.insert(list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 2;
  }
  return out;
}

}  // namespace

TEST(SchemaKeys, TheDagSchemaNamesEveryKeyTheLoaderKnowsAtEachLevel) {
  const auto s = flow::dag::dag_schema();
  const auto& task = s["properties"]["tasks"]["items"];
  EXPECT_EQ(properties(s), allowed_keys_of("dag: x\nzzz: 1\ntasks: [{id: a, run: b}]\n"));
  EXPECT_EQ(properties(task), allowed_keys_of("dag: x\ntasks: [{id: a, run: b, zzz: 1}]\n"));
  EXPECT_EQ(properties(s["properties"]["defaults"]),
            allowed_keys_of("dag: x\ndefaults: {zzz: 1}\ntasks: [{id: a, run: b}]\n"));
  EXPECT_EQ(properties(task["properties"]["slurm"]),
            allowed_keys_of("dag: x\ntasks: [{id: a, run: b, slurm: {zzz: 1}}]\n"));
  EXPECT_EQ(properties(task["properties"]["hpo"]),
            allowed_keys_of("dag: x\ntasks: [{id: a, run: b, hpo: {metric: m, zzz: 1, "
                            "space: {x: {choice: [1]}}}}]\n"));
}

TEST(SchemaKeys, EveryKeyOfTheSiteSchemaIsOneTheSiteLoaderKnows) {
  const auto s = flow::site::site_schema();
  std::string all_null;
  for (const auto& k : properties(s))
    all_null += k + ":\n";  // null: known and not set
  EXPECT_NO_THROW(flow::site::SiteCatalog::load_text(all_null, "every-key.yaml")) << all_null;
  EXPECT_THROW(flow::site::SiteCatalog::load_text(all_null + "zzz:\n", "every-key.yaml"),
               flow::InputError);
  EXPECT_EQ(properties(s["properties"]["jump"]["anyOf"][1]),
            (Keys{"host", "port", "user", "identity"}));
}
