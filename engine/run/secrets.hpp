#pragma once
// The values of a DAG's `secrets:` (docs/REFERENCE.md §3.11). A secret's value is read by
// the engine that drives the run, each time it starts or resumes it, from that engine's
// environment or from a file, and is held in memory only: the database keeps the DAG text
// (which says where the value is, not what it is), never the value.
//
// A value reaches a task only as an environment variable (validation refuses
// `{{ secrets.X }}` anywhere but in `env:`): a local task gets it in its environment (which
// only its user can read, /proc/PID/environ is 0400), a Slurm task from a file of its own,
// 0600 in the private try directory on the site, that the job script sources; the job
// script and its copy in the database name the file, not the value.

#include <map>
#include <string>

#include "engine/dag/dag.hpp"
#include "engine/dag/template.hpp"

namespace flow::run {

using SecretValues = std::map<std::string, std::string>;  // secret name -> value

// Reads every secret of `dag`. An environment variable that is not set, or a file that
// cannot be read, throws EnvironmentError naming the secret and where it was looked for
// (exit 3). A file's one trailing newline is dropped (`echo token > file` is the common
// way to write one); a file that others may read is refused, as ssh refuses such keys.
SecretValues read_secrets(const dag::Dag& dag);

// Whether a parsed `env:` value uses a secret (`{{ secrets.NAME }}`).
bool uses_secret(const dag::Template& value);

}  // namespace flow::run
