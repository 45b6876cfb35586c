#pragma once
// Turns what a task declared (declaration.hpp) into registry rows: checks each path
// (artifact_path.hpp), hashes the file, picks the media type and the id. The run
// controller calls this when a try succeeds and commits the rows in the same transaction
// as the success, so a try is never `succeeded` with its artifacts missing, nor the other
// way round. Nothing here writes to the store.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/artifact/fetched.hpp"
#include "engine/state/records.hpp"

namespace flow::artifact {

// The try whose artifacts are registered.
struct TryContext {
  const state::RunRecord* run = nullptr;  // id, dag, dag_hash, params
  std::string instance_id;
  std::string task_id;
  int try_number = 0;
  std::string site;
  std::string host;                       // this engine's host name
  std::filesystem::path workdir;          // the task's working directory (absolute)
  EpochMs started = 0;                    // the try's start
  EpochMs now = 0;                        // registration time
  std::vector<std::string> derived_from;  // provenance.hpp
  // A task on an SSH site: the copies of its artifacts its executor fetched (fetched.hpp).
  // A declared path found here is registered from the copy, with its origin; its sha256
  // must be the one the site computed.
  FetchedFiles fetched;
};

// One row per declared artifact, in the order declared; none when the outputs have no
// "artifacts" key. Throws RegistrationError with a message naming the task, the entry and
// what to do, e.g. "task 'train': cannot register artifacts[0] ("model.onnx"): no such
// file /work/model.onnx".
std::vector<state::ArtifactRecord> register_artifacts(const nlohmann::json& outputs,
                                                      const TryContext& ctx);

}  // namespace flow::artifact
