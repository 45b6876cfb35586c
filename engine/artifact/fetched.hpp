#pragma once
// Artifacts a task on an SSH site registered, brought to this machine before its try is
// reported finished (docs/ARTIFACTS.md, "Artifacts from other sites").
//
// The site's executor reads the "artifacts" the task declared in its outputs file, copies
// each file here (checked by sha256 on both ends) and writes what it fetched next to the
// local copy of the outputs file, as <outputs file>.fetched.json:
//
//   {"model.onnx": {"local": "/home/me/.flow/runs/R/model.onnx",
//                   "origin": {"site": "jureca", "host": "jureca.fz-juelich.de:22",
//                              "path": "/p/scratch/me/flow/runs/R/model.onnx",
//                              "job_id": "4242", "sha256": "0c76..."}}}
//
// keyed by the path as the task declared it. Registration then reads the local copy and
// records the origin. A fetch that is repeated (the engine was killed before the try's end
// was committed) writes the same file again.

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace flow::artifact {

struct FetchedFile {
  std::filesystem::path local;  // absolute: the copy on this machine
  nlohmann::json origin;        // {"site", "host", "path", "job_id", "sha256"}
};

// Declared path -> the fetched copy.
using FetchedFiles = std::map<std::string, FetchedFile>;

// <outputs file>.fetched.json
std::filesystem::path fetched_file_of(const std::filesystem::path& outputs_file);

// Written atomically, private (0600). Throws EnvironmentError if it cannot be written.
void write_fetched(const std::filesystem::path& outputs_file, const FetchedFiles& files);

// What was fetched for this outputs file; empty when nothing was (a local task, or a remote
// one that registered nothing). Entries that do not have the shape above are skipped.
FetchedFiles read_fetched(const std::filesystem::path& outputs_file);

}  // namespace flow::artifact
