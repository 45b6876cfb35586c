#pragma once
// The DAG files of a folder (`--dags DIR`, default dags/), as the scheduler, `flow
// backfill` and `flow trigger` see them: every *.yaml / *.yml below it (hidden folders
// skipped) whose text has a top-level `dag:` key, loaded and validated against the site
// catalogue. A broken file does not stop the others: it carries its diagnostics instead of
// a DAG. Two files that declare the same `dag:` name are both unusable until one goes.
//
// refresh() re-reads only files that are new or whose size or modification time changed,
// so the scheduler can call it every tick.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/runtime/services.hpp"
#include "engine/site/site.hpp"

namespace flow::runtime {

struct DagFile {
  std::filesystem::path path;
  std::string declared_name;         // the `dag:` value as written, even if the file is broken
  std::optional<dag::Dag> dag;       // loaded and valid
  std::vector<Diagnostic> problems;  // why not
  std::filesystem::file_time_type mtime{};
  uintmax_t size = 0;
};

class DagFolder {
 public:
  // `sites` (may be null: sites are not checked) and `services` (may be null: job scripts
  // are not checked) must outlive the folder.
  DagFolder(std::filesystem::path dir, const site::SiteCatalog* sites,
            const Services* services = nullptr);

  // Re-reads new and changed files, forgets removed ones. Returns the paths it (re)read,
  // and those whose name clash changed, so a caller can report each problem once.
  // Throws InputError if the folder does not exist.
  std::vector<std::filesystem::path> refresh();

  const std::map<std::filesystem::path, DagFile>& files() const { return files_; }
  // Loaded, valid and the only file with its DAG name.
  bool usable(const DagFile& f) const;
  // Why a file is not usable (its diagnostics, or the name clash); empty if it is.
  std::vector<Diagnostic> problems(const DagFile& f) const;
  const std::filesystem::path& dir() const { return dir_; }

  // The valid DAG named `name`. Throws InputError (exit 2) saying what is there instead:
  // the names found (with a "did you mean"), or the diagnostics of a file that declares
  // the name but is broken.
  const DagFile& find(const std::string& name) const;

 private:
  void mark_duplicates();

  std::filesystem::path dir_;
  const site::SiteCatalog* sites_;
  const Services* services_;
  std::map<std::filesystem::path, DagFile> files_;
  std::map<std::string, std::vector<std::filesystem::path>> clashes_;  // name -> files
};

}  // namespace flow::runtime
