#pragma once
// The files of a DAG's `code:` (docs/STAGING.md): what is synced to a site once per run.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace flow::staging {

struct CodeFile {
  std::string relative;         // "dags/ards/train.py": its path on the site, under the run dir
  std::filesystem::path local;  // absolute
};

// Each entry (relative to `workdir`) is a file or a directory walked recursively, following
// symbolic links; directories named `__pycache__` or `.git`, and anything that is not a
// regular file, are skipped. Sorted by relative path, without duplicates. Throws StageError
// for an entry that does not exist.
std::vector<CodeFile> code_files(const std::filesystem::path& workdir,
                                 const std::vector<std::string>& entries);

}  // namespace flow::staging
