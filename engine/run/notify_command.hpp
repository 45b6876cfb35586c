#pragma once
// A `notify: {command: ...}` attempt (docs/ALERTS.md): `/bin/sh -c COMMAND` as a child
// process in its own process group, the notification's JSON on its stdin, FLOW_NOTIFY_EVENT,
// FLOW_RUN_ID, FLOW_DAG and FLOW_TASK_ID in its environment, its output appended to a log
// file, in the working directory of the run. It is watched from the io_context (a short
// poll, never a blocking wait); past `timeout` its process group is killed.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace flow::run {

struct NotifyCommand {
  std::string command;                     // rendered, values shell-quoted
  std::string payload;                     // JSON, written to stdin
  std::map<std::string, std::string> env;  // added to the engine's environment
  std::filesystem::path workdir;           // "" = the engine's
  std::filesystem::path log;               // stdout and stderr, appended
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

// Starts the command; `done` runs on `io` once it ended: "" for exit status 0, else why
// not ("exit status 3", "killed after 30s", "cannot start /bin/sh: ...").
void run_notify_command(boost::asio::io_context& io, NotifyCommand c,
                        std::function<void(const std::string& error)> done);

}  // namespace flow::run
