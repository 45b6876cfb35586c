#pragma once
// The Transport for `transport: local` sites: Slurm's commands are on this machine, so a
// command is `/bin/sh -c` here and files are plain local files. Also what `flow sites check`
// uses for such sites. Thread-safe: every call is independent.

#include "operators/transport/transport.hpp"

namespace flow::transport {

class LocalTransport : public Transport {
 public:
  // Runs `command` with /bin/sh; stdout and stderr are captured separately. A command
  // still running at `timeout` is killed (its process group) and reported as exit 124
  // with a note on stderr, like timeout(1).
  CommandResult run(const std::string& command, std::chrono::milliseconds timeout) override;
  void put_file(const std::string& path, const std::string& content, int mode) override;
  std::optional<std::string> get_file(const std::string& path, uint64_t offset) override;
  std::optional<RemoteStat> stat(const std::string& path) override;
  std::string describe() const override { return "local"; }

  uint64_t send_file(const std::filesystem::path& local, uint64_t offset, const std::string& remote,
                     int mode, const ChunkSink& sent) override;
  uint64_t receive_file(const std::string& remote, uint64_t offset, const ChunkSink& sink) override;
  void rename(const std::string& from, const std::string& to) override;
  void remove(const std::string& path) override;
  void make_dirs(const std::string& dir) override;
  std::optional<SpaceInfo> space(const std::string& path) override;
  std::unique_ptr<Transport> open_another() const override;
};

}  // namespace flow::transport
