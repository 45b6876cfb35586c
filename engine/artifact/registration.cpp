#include "engine/artifact/registration.hpp"

#include <map>

#include "engine/artifact/artifact_id.hpp"
#include "engine/artifact/artifact_path.hpp"
#include "engine/artifact/declaration.hpp"
#include "engine/artifact/kind.hpp"
#include "engine/artifact/media_type.hpp"
#include "engine/artifact/registration_error.hpp"
#include "engine/core/sha256.hpp"

namespace flow::artifact {

std::vector<state::ArtifactRecord> register_artifacts(const nlohmann::json& outputs,
                                                      const TryContext& ctx) {
  const std::string task = "task '" + ctx.instance_id + "'";
  std::vector<Declaration> declared;
  try {
    declared = parse_declarations(outputs);
  } catch (const RegistrationError& e) {
    throw RegistrationError(task + ": cannot register its artifacts: " + std::string(e.what()));
  }
  std::vector<state::ArtifactRecord> out;
  std::map<std::string, size_t> seen;  // path -> index of the entry that named it
  for (const auto& d : declared) {
    const std::string entry =
        task + ": cannot register artifacts[" + std::to_string(d.index) + "] (\"" + d.path + "\")";
    std::filesystem::path path;
    FileDigest digest;
    const auto fetched = ctx.fetched.find(d.path);
    try {
      path = fetched != ctx.fetched.end() ? fetched->second.local
                                          : resolve_artifact_path(d.path, ctx.workdir);
      digest = digest_file(path);
    } catch (const Error& e) {
      std::string hint = ctx.site == "local" || ctx.site.empty()
                             ? ""
                             : "; the task ran on site '" + ctx.site + "' (docs/ARTIFACTS.md, " +
                                   "artifacts from other sites)";
      throw RegistrationError(entry + ": " + e.what() + hint);
    }
    if (fetched != ctx.fetched.end()) {
      const std::string there = fetched->second.origin.value("sha256", "");
      if (!there.empty() && there != digest.sha256) {
        throw RegistrationError(entry + ": the copy fetched from site '" + ctx.site + "' (" +
                                path.string() + ", sha256 " + digest.sha256 +
                                ") is not the file on the site (sha256 " + there +
                                "); it changed after the fetch");
      }
    }
    if (auto [it, fresh] = seen.emplace(path.string(), d.index); !fresh) {
      throw RegistrationError(entry + ": it names the same file as artifacts[" +
                              std::to_string(it->second) + "], " + path.string());
    }
    state::ArtifactRecord a;
    a.run_id = ctx.run->id;
    a.instance_id = ctx.instance_id;
    a.task_id = ctx.task_id;
    a.try_number = ctx.try_number;
    a.dag = ctx.run->dag;
    a.dag_hash = ctx.run->dag_hash;
    a.params = ctx.run->params;
    a.site = ctx.site;
    a.host = ctx.host;
    a.name = d.name.empty() ? path.filename().string() : d.name;
    a.description = d.description;
    a.format = d.format.empty() ? format_from_extension(path.string()) : d.format;
    a.encoding_format = media_type_of(a.format);
    a.kind = d.kind.empty() ? default_kind(a.format) : d.kind;
    a.path = path.string();
    a.sha256 = digest.sha256;
    a.size = static_cast<int64_t>(digest.size);
    a.started = ctx.started;
    a.created = ctx.now;
    a.derived_from = ctx.derived_from;
    a.metadata = d.metadata;
    if (fetched != ctx.fetched.end()) a.origin = fetched->second.origin;
    a.id = make_artifact_id(a.sha256, a.run_id, a.instance_id, a.try_number, a.path);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace flow::artifact
