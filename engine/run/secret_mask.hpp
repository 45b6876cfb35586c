#pragma once
// Masking what a task prints. A task gets its secrets (engine/run/secrets.hpp) in its
// environment and may print them; flow replaces every occurrence of a secret's value with
// `***` in what it keeps of the task's output, as Airflow masks secrets in task logs:
//
// - a local try's log is rewritten masked when the try ends (before its last lines go into
//   the try's message, and so into the database and the terminal);
// - a Slurm try's log is masked as it is copied from the site, whole lines at a time, so a
//   value is never split across two copies.
//
// Values shorter than kMinMaskedLength bytes are not masked (masking "1" or "on" would
// blot out the whole log and hide nothing). A value with several lines is also masked line
// by line (a PEM key printed with other line breaks). What a task writes into its outputs
// object is its data, passed on to other tasks, and is not masked; the files on a site and
// a running local try's log hold what the task printed until the try ends.

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace flow::run {

inline constexpr size_t kMinMaskedLength = 4;
inline constexpr std::string_view kMask = "***";

class SecretMask {
 public:
  SecretMask() = default;
  // The values of the `secret_env` names in `env` (a LaunchSpec's env and secret_env).
  SecretMask(const std::map<std::string, std::string>& env,
             const std::set<std::string>& secret_env);
  explicit SecretMask(std::vector<std::string> values);

  bool empty() const { return values_.empty(); }
  // `text` with every occurrence of every value replaced by kMask, longest values first.
  std::string apply(std::string text) const;
  // Rewrites `file` (atomically, private) if it contains a value; false if it could not be
  // read or written (the caller carries on: its own message says what happened).
  bool apply_to_file(const std::filesystem::path& file) const;

 private:
  std::vector<std::string> values_;  // longest first, no duplicates, none too short
};

}  // namespace flow::run
