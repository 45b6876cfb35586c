#pragma once
// Small builders of JSON Schema (Draft-07) fragments, shared by the schemas of DAG files
// (engine/dag/dag_schema.hpp) and site files (engine/site/site_schema.hpp). Each fragment
// describes what flow's YAML readers (engine/core/yaml_reader.hpp) accept.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace flow::schema {

using json = nlohmann::json;

// `s` with a "description".
json with(json s, const std::string& description);
// {"type": [names...]}.
json types(std::initializer_list<const char*> names);
// {"anyOf": [alternatives...]}.
json any_of(const std::vector<json>& alternatives);
// {"required": [keys...]}.
json required(std::initializer_list<const char*> keys);
// A whole number from lo to hi.
json integer(long long lo, long long hi);
// One of these strings.
json one_of_values(const std::vector<std::string>& values);
// A duration as engine/core/duration.hpp reads it: numbers with units (ms, s, sec, m, min,
// h, d) summed, or a bare number of seconds.
json duration();
// A boolean as yaml-cpp decodes one: true/false, yes/no, on/off, y/n, in lower,
// capitalised or upper case.
json boolean();

}  // namespace flow::schema
