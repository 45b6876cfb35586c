#include "engine/core/json_schema.hpp"

#include <algorithm>

namespace flow::schema {

json with(json s, const std::string& description) {
  s["description"] = description;
  return s;
}

json types(std::initializer_list<const char*> names) {
  json a = json::array();
  for (const char* n : names)
    a.push_back(n);
  return json{{"type", a}};
}

json any_of(const std::vector<json>& alternatives) {
  json a = json::array();
  for (const auto& alternative : alternatives)
    a.push_back(alternative);
  return json{{"anyOf", a}};
}

json required(std::initializer_list<const char*> keys) {
  json a = json::array();
  for (const char* k : keys)
    a.push_back(k);
  return json{{"required", a}};
}

json integer(long long lo, long long hi) {
  return json{{"type", "integer"}, {"minimum", lo}, {"maximum", hi}};
}

json one_of_values(const std::vector<std::string>& values) {
  return json{{"type", "string"}, {"enum", values}};
}

json duration() {
  const std::string n = "[0-9.]*[0-9][0-9.]*";
  json s = {{"type", "string"},
            {"pattern", "^\\s*((" + n + "(ms|s|sec|m|min|h|d))+|" + n + ")\\s*$"}};
  return any_of({s, {{"type", "number"}, {"minimum", 0}}});
}

json boolean() {
  std::vector<std::string> words;
  for (const char* w : {"y", "yes", "n", "no", "true", "false", "on", "off"}) {
    std::string lower = w, cap = w, upper = w;
    cap[0] = static_cast<char>(cap[0] - 'a' + 'A');
    for (char& c : upper)
      c = static_cast<char>(c - 'a' + 'A');
    for (const auto& v : {lower, cap, upper}) {
      if (std::find(words.begin(), words.end(), v) == words.end()) words.push_back(v);
    }
  }
  return any_of({{{"type", "boolean"}}, one_of_values(words)});
}

}  // namespace flow::schema
