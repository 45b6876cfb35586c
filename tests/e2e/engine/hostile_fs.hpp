#pragma once
// A hostile file system for e2e tests of the real `flow` binary: small tmpfs mounts (a full
// disk), read-only bind mounts, damaged database files, a second local user. Mounts are
// made in a mount namespace of the test process's own, so they vanish with it even when a
// test fails half-way; `flow` commands the test starts inherit the namespace.

#include <fcntl.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "cli.hpp"

namespace flow::test {

// Moves this process into a mount namespace of its own (once). Returns "" or why not.
inline std::string enter_private_mount_namespace() {
  static std::string why = [] {
    if (::geteuid() != 0) return std::string("needs root (mount)");
    if (::unshare(CLONE_NEWNS) != 0)
      return "unshare(CLONE_NEWNS): " + std::string(std::strerror(errno));
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return "mount --make-rprivate /: " + std::string(std::strerror(errno));
    return std::string();
  }();
  return why;
}

// Mounts a tmpfs of `size` (e.g. "4m") on `dir`. Returns "" or why not.
inline std::string mount_tmpfs(const std::filesystem::path& dir, const std::string& size) {
  if (auto why = enter_private_mount_namespace(); !why.empty()) return why;
  std::filesystem::create_directories(dir);
  const std::string opts = "size=" + size + ",mode=0755";
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) != 0)
    return "mount -t tmpfs: " + std::string(std::strerror(errno));
  return "";
}

// Makes `dir` read-only for everyone, root included: a read-only bind mount of itself.
inline std::string bind_read_only(const std::filesystem::path& dir) {
  if (auto why = enter_private_mount_namespace(); !why.empty()) return why;
  if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return "mount --bind: " + std::string(std::strerror(errno));
  if (::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
    return "mount -o remount,bind,ro: " + std::string(std::strerror(errno));
  return "";
}

// Runs `sql` on the database file read-only, with SQLite itself (not flow's Store, which
// would migrate or repair); returns the first column of every row, one per line.
inline std::string sqlite_query(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::string out;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    out = std::string("open failed: ") + sqlite3_errmsg(h);
    sqlite3_close(h);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    out = std::string("prepare failed: ") + sqlite3_errmsg(h);
  } else {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      auto t = sqlite3_column_text(st, 0);
      out += (t ? reinterpret_cast<const char*>(t) : "NULL");
      out += "\n";
    }
    if (rc != SQLITE_DONE) out += std::string("step failed: ") + sqlite3_errmsg(h);
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

// `flow ARGS` in the project's directory with FLOW_HOME=`home` (Project::flow fixes it
// to the project's own). `prefix`: shell text run first, e.g. "umask 000;".
inline CmdResult flow_with_home(const Project& p, const std::filesystem::path& home,
                                const std::string& args, const std::string& prefix = "") {
  auto out = p.dir() / ".hf.out", err = p.dir() / ".hf.err";
  std::string cmd = "cd '" + p.dir().string() + "' && " + prefix + " FLOW_HOME='" + home.string() +
                    "' " FLOW_BINARY " " + args + " >'" + out.string() + "' 2>'" + err.string() +
                    "' </dev/null";
  int status = std::system(cmd.c_str());
  CmdResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// Overwrites `n` bytes of `file` at `offset` with a fixed garbage pattern.
inline void scribble(const std::filesystem::path& file, off_t offset, size_t n) {
  int fd = ::open(file.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << file;
  std::string junk(n, '\0');
  for (size_t i = 0; i < n; ++i)
    junk[i] = static_cast<char>((i * 131 + 7) & 0xff);
  ASSERT_EQ(::pwrite(fd, junk.data(), n, offset), static_cast<ssize_t>(n));
  ::close(fd);
}

// An exit code that means flow handled the problem: not a signal, not "internal error" (1
// with that text), not the sanitizer's exit code.
inline void expect_clean_exit(const CmdResult& r, int code, const std::string& what) {
  EXPECT_EQ(r.code, code) << what << "\nstdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << what << ": " << r.err;
  EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << what << ": " << r.err;
}

}  // namespace flow::test
