// Minimal catalogue so the engine links; the sites work (issue #5) replaces this file
// with the full loader (validation, ${VAR} expansion, overrides).
#include "engine/site/site.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

namespace flow::site {

std::string_view to_string(Transport t) {
  switch (t) {
    case Transport::kNone:
      return "none";
    case Transport::kLocal:
      return "local";
    case Transport::kSsh:
      return "ssh";
  }
  return "none";
}

SiteCatalog SiteCatalog::load(const std::vector<std::filesystem::path>& dirs) {
  SiteCatalog c;
  Site local;
  local.name = "local";
  c.add(local);
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(d, ec)) continue;
    for (const auto& e : std::filesystem::directory_iterator(d, ec)) {
      if (e.path().extension() != ".yaml") continue;
      YAML::Node n = YAML::LoadFile(e.path().string());
      Site s;
      s.name = n["site"].as<std::string>(e.path().stem().string());
      auto t = n["transport"].as<std::string>("none");
      s.transport = t == "ssh" ? Transport::kSsh : t == "local" ? Transport::kLocal : Transport::kNone;
      s.scheduler = n["scheduler"].as<std::string>("");
      s.where = SourceLocation{e.path().string()};
      c.add(s);
    }
  }
  return c;
}

std::vector<std::filesystem::path> SiteCatalog::default_dirs() {
  return {std::filesystem::path(FLOW_SOURCE_DIR) / "sites"};
}

const Site* SiteCatalog::find(std::string_view name) const {
  auto it = sites_.find(name);
  return it == sites_.end() ? nullptr : &it->second;
}

std::vector<std::string> SiteCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& [k, _] : sites_) out.push_back(k);
  return out;
}

void SiteCatalog::add(Site site) { sites_[site.name] = std::move(site); }

}  // namespace flow::site
