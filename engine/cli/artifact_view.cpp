#include "engine/cli/artifact_view.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/artifact/jsonld.hpp"
#include "engine/core/byte_size.hpp"
#include "engine/core/clock.hpp"
#include "engine/core/suggest.hpp"

namespace flow::cli {

nlohmann::json artifact_json(const state::ArtifactRecord& a) {
  return {{"id", a.id},
          {"path", a.path},
          {"sha256", a.sha256},
          {"created", iso_utc(a.created)},
          {"run_id", a.run_id},
          {"metadata", artifact::artifact_jsonld(a)},
          {"name", a.name},
          {"description", a.description},
          {"format", a.format},
          {"kind", a.kind},
          {"encoding_format", a.encoding_format},
          {"size", a.size},
          {"dag", a.dag},
          {"dag_hash", a.dag_hash},
          {"task", a.instance_id},
          {"try", a.try_number},
          {"site", a.site},
          {"host", a.host},
          {"params", a.params},
          {"derived_from", a.derived_from},
          {"origin", a.origin.empty() ? nlohmann::json() : a.origin}};
}

std::string artifact_table(const std::vector<state::ArtifactRecord>& artifacts) {
  if (artifacts.empty()) return "no artifacts\n";
  size_t wn = 4, wr = 3;
  for (const auto& a : artifacts) {
    wn = std::max(wn, a.name.size());
    wr = std::max(wr, a.run_id.size());
  }
  std::string out;
  char buf[1024];
  auto line = [&](const std::string& id, const std::string& name, const std::string& kind,
                  const std::string& format, const std::string& size, const std::string& created,
                  const std::string& run, const std::string& task) {
    std::snprintf(buf, sizeof buf, "%-27s  %-*s  %-7s  %-8s  %10s  %-20s  %-*s  %s\n", id.c_str(),
                  static_cast<int>(wn), name.c_str(), kind.c_str(), format.c_str(), size.c_str(),
                  created.c_str(), static_cast<int>(wr), run.c_str(), task.c_str());
    out += buf;
  };
  line("ID", "NAME", "KIND", "FORMAT", "SIZE", "CREATED", "RUN", "TASK");
  for (const auto& a : artifacts) {
    line(a.id, a.name, a.kind, a.format.empty() ? "-" : a.format,
         human_bytes(static_cast<uint64_t>(a.size)), iso_utc(a.created).substr(0, 19), a.run_id,
         a.instance_id + (a.try_number > 1 ? " (try " + std::to_string(a.try_number) + ")" : ""));
  }
  return out;
}

std::string artifact_details(const state::ArtifactRecord& a) {
  std::string out;
  auto field = [&](const char* key, const std::string& value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "  %-13s ", key);
    out += buf + (value.empty() ? std::string("-") : value) + "\n";
  };
  out += "artifact " + a.id + "\n";
  field("name", a.name);
  field("description", a.description);
  field("kind", a.kind);
  field("path", a.path);
  field("format", a.format.empty() ? a.encoding_format : a.format + " (" + a.encoding_format + ")");
  field("size",
        std::to_string(a.size) + " bytes (" + human_bytes(static_cast<uint64_t>(a.size)) + ")");
  field("sha256", a.sha256);
  field("created", iso_utc(a.created));
  field("run", a.run_id);
  field("dag", a.dag + " (sha256 " + a.dag_hash.substr(0, 12) + ")");
  field("task", a.instance_id + ", try " + std::to_string(a.try_number));
  field("site", a.site + (a.host.empty() ? "" : " (engine host " + a.host + ")"));
  if (!a.origin.empty()) {
    field("fetched from", a.origin.value("host", "") + ":" + a.origin.value("path", "") +
                              " (Slurm job " + a.origin.value("job_id", "?") + ", sha256 " +
                              a.origin.value("sha256", "").substr(0, 12) + ")");
  }
  field("params", a.params.empty() ? "" : a.params.dump());
  field("derived from", join(a.derived_from));
  field("metadata", a.metadata.empty() ? "" : a.metadata.dump());
  out += "(JSON-LD: flow artifacts show " + a.id + " --json)\n";
  return out;
}

}  // namespace flow::cli
