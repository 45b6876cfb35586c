#pragma once
// A scripted Transport for unit tests: each command is answered by a handler the test
// installs; files live in a map. Records every command it was asked to run.

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/core/error.hpp"
#include "operators/transport/transport.hpp"

namespace flow::test {

class FakeTransport : public transport::Transport {
 public:
  using Handler = std::function<transport::CommandResult(const std::string&)>;

  void on_run(Handler h) {
    std::lock_guard lock(mu_);
    handler_ = std::move(h);
  }
  std::vector<std::string> commands() {
    std::lock_guard lock(mu_);
    return commands_;
  }
  // How many recorded commands contain `needle`.
  int count(const std::string& needle) {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& c : commands_)
      n += c.find(needle) != std::string::npos;
    return n;
  }
  void set_file(const std::string& path, const std::string& text) {
    std::lock_guard lock(mu_);
    files_[path] = {text, ++mtime_};
  }
  bool has_file(const std::string& path) {
    std::lock_guard lock(mu_);
    return files_.count(path) > 0;
  }

  transport::CommandResult run(const std::string& command, std::chrono::milliseconds) override {
    Handler h;
    {
      std::lock_guard lock(mu_);
      commands_.push_back(command);
      h = handler_;
    }
    if (!h) return {127, "", "no handler"};
    auto r = h(command);
    // stat lines for the files the command asks about, as `stat -c '%s %Y %n'` prints them.
    if (command.find("stat -c") != std::string::npos) {
      std::lock_guard lock(mu_);
      for (const auto& [path, f] : files_) {
        if (command.find(path) != std::string::npos)
          r.out +=
              std::to_string(f.text.size()) + " " + std::to_string(f.mtime) + " " + path + "\n";
      }
    }
    return r;
  }
  void put_file(const std::string& path, const std::string& content, int) override {
    set_file(path, content);
  }
  std::optional<std::string> get_file(const std::string& path, uint64_t offset) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return offset >= it->second.text.size() ? std::string() : it->second.text.substr(offset);
  }
  std::optional<transport::RemoteStat> stat(const std::string& path) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return transport::RemoteStat{it->second.text.size(), it->second.mtime};
  }
  std::string describe() const override { return "fake"; }

 private:
  struct File {
    std::string text;
    int64_t mtime = 0;
  };
  std::mutex mu_;
  Handler handler_;
  std::vector<std::string> commands_;
  std::map<std::string, File> files_;
  int64_t mtime_ = 0;
};

}  // namespace flow::test
