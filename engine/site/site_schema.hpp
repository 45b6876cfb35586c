#pragma once
// The JSON Schema (Draft-07) of site files (sites/NAME.yaml, docs/REFERENCE.md §5), for
// editors and other tools: `flow schema site` prints it, docs/schema/site.schema.json is a
// copy of it. It follows the site loader (engine/site/site.cpp): every key may be null
// (= not set) and every value may hold `${VAR}`, expanded when the catalogue loads, so a
// value with `${` is only checked to be text.

#include <nlohmann/json.hpp>

namespace flow::site {

nlohmann::json site_schema();

}  // namespace flow::site
