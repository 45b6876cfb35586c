// The Stager's protocol (checked, atomic, resumable transfers) over LocalTransport: the
// "site" is a second directory on this machine, so every byte, hash and rename is real;
// a decorator injects a lost link or a refusing site where a test needs one.
#include "operators/staging/stager.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "engine/core/sha256.hpp"
#include "operators/staging/code_files.hpp"
#include "operators/transport/local_transport.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using flow::staging::FileCopy;
using flow::staging::StageError;
using flow::staging::Stager;
using flow::test::TempDir;

namespace {

void spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string big(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>(seed + static_cast<char>(i * 7 % 251));
  return s;
}

// LocalTransport whose send_file/receive_file fail after `budget` bytes: with a lost link
// (what was written stays) or, `refuse`, with the site's own error (like a full disk).
class Flaky : public flow::transport::LocalTransport {
 public:
  int64_t budget = -1;  // bytes before failing; -1: never
  bool refuse = false;
  uint64_t send_file(const fs::path& local, uint64_t offset, const std::string& remote, int mode,
                     const flow::transport::ChunkSink& sent) override {
    if (budget < 0) return LocalTransport::send_file(local, offset, remote, mode, sent);
    // Write only the first `budget` bytes, then fail.
    std::string data = slurp(local).substr(offset);
    std::string part = data.substr(0, static_cast<size_t>(budget));
    spit_at(remote, offset, part);
    budget = -1;
    if (refuse) throw flow::EnvironmentError("No space left on device");
    throw flow::transport::Unreachable("connection lost");
  }

 private:
  static void spit_at(const std::string& path, uint64_t offset, const std::string& data) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    if (!f) {
      std::ofstream(path, std::ios::binary).close();
      f.open(path, std::ios::in | std::ios::out | std::ios::binary);
    }
    f.seekp(static_cast<std::streamoff>(offset));
    f << data;
  }
};

class StagerTest : public ::testing::Test {
 protected:
  TempDir here_, site_;
  flow::transport::LocalTransport t_;
  fs::path local(const std::string& rel) { return here_.path() / rel; }
  std::string remote(const std::string& rel) { return (site_.path() / rel).string(); }
  // 300 code files in 7 directories with 50 distinct contents, file i printing i % 50,
  // going to runs/r1/ on the site.
  std::vector<FileCopy> code_files_of_run_r1() {
    std::vector<FileCopy> copies;
    for (int i = 0; i < 300; ++i) {
      const std::string rel = "code/d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".py";
      spit(local(rel), "print(" + std::to_string(i % 50) + ")\n");
      copies.push_back({local(rel), remote("runs/r1/" + rel)});
    }
    return copies;
  }
  // many_files() written under data/ here, each going to run/ on the site.
  std::vector<FileCopy> many_uploads();
  std::vector<std::string> parts_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.path().filename().string().rfind(".flow-part.", 0) == 0) out.push_back(e.path());
    return out;
  }
};

}  // namespace

TEST_F(StagerTest, UploadSendsOnlyFilesThatAreMissingOrDifferOnTheSite) {
  spit(local("a.txt"), "alpha");
  spit(local("d/b.bin"), big(300000, 'b'));
  spit(local("c.txt"), "gamma");
  std::vector<FileCopy> files = {{local("a.txt"), remote("run/a.txt")},
                                 {local("d/b.bin"), remote("run/d/b.bin")},
                                 {local("c.txt"), remote("run/c.txt")}};
  Stager s(t_);
  auto first = s.upload(files);
  EXPECT_EQ(first.files, 3);
  EXPECT_EQ(first.sent, 3);
  EXPECT_EQ(first.bytes, 5u + 300000u + 5u);
  EXPECT_EQ(slurp(remote("run/d/b.bin")), big(300000, 'b'));

  auto again = s.upload(files);
  EXPECT_EQ(again.sent, 0);
  EXPECT_EQ(again.unchanged, 3);
  EXPECT_EQ(again.bytes, 0u);

  spit(local("c.txt"), "GAMMA!");
  auto changed = s.upload(files);
  EXPECT_EQ(changed.sent, 1);
  EXPECT_EQ(changed.bytes, 6u);
  EXPECT_EQ(slurp(remote("run/c.txt")), "GAMMA!");
  EXPECT_TRUE(parts_in(site_.path()).empty());
}

TEST_F(StagerTest, ALostLinkLeavesAPartThatTheNextUploadContinues) {
  const std::string content = big(1 << 20, 'x');
  spit(local("big.bin"), content);
  Flaky flaky;
  flaky.budget = 300000;
  Stager s(flaky);
  EXPECT_THROW(s.upload({{local("big.bin"), remote("big.bin")}}), flow::transport::Unreachable);
  EXPECT_FALSE(fs::exists(remote("big.bin"))) << "a partial copy must never be in place";
  auto parts = parts_in(site_.path());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(fs::file_size(parts[0]), 300000u);

  auto r = s.upload({{local("big.bin"), remote("big.bin")}});
  EXPECT_EQ(r.sent, 1);
  EXPECT_EQ(r.resumed, 1);
  EXPECT_EQ(r.bytes, content.size() - 300000u) << "only the rest is sent";
  EXPECT_EQ(slurp(remote("big.bin")), content);
  EXPECT_TRUE(parts_in(site_.path()).empty());
}

TEST_F(StagerTest, APartThatIsNotAPrefixOfTheFileIsDetectedAndSentAgainWhole) {
  const std::string content = big(200000, 'k');
  spit(local("f.bin"), content);
  Stager s(t_);
  // A stale partial copy with the right name but wrong bytes (e.g. a disk that lied).
  spit(Stager::part_name(remote("f.bin"), s.local_sha256(local("f.bin"))), std::string(50000, 'Z'));
  auto r = s.upload({{local("f.bin"), remote("f.bin")}});
  EXPECT_EQ(slurp(remote("f.bin")), content);
  EXPECT_EQ(r.bytes, (200000u - 50000u) + 200000u) << "the resume, then the whole file again";
  EXPECT_TRUE(parts_in(site_.path()).empty());
}

TEST_F(StagerTest, ASiteThatRefusesGetsItsPartRemovedAndTheErrorNamesTheFile) {
  spit(local("f.bin"), big(100000, 'r'));
  Flaky flaky;
  flaky.budget = 4096;
  flaky.refuse = true;
  Stager s(flaky);
  try {
    s.upload({{local("f.bin"), remote("dir/f.bin")}});
    FAIL() << "no error";
  } catch (const StageError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(local("f.bin").string()), std::string::npos) << m;
    EXPECT_NE(m.find("No space left on device"), std::string::npos) << m;
  }
  EXPECT_TRUE(parts_in(site_.path()).empty()) << "nothing half-written stays";
  EXPECT_FALSE(fs::exists(remote("dir/f.bin")));
}

TEST_F(StagerTest, AMissingLocalFileIsNamedAndNothingIsSent) {
  spit(local("here.txt"), "x");
  Stager s(t_);
  try {
    s.upload({{local("here.txt"), remote("here.txt")}, {local("gone.txt"), remote("gone.txt")}});
    FAIL() << "no error";
  } catch (const StageError& e) {
    EXPECT_NE(std::string(e.what()).find(local("gone.txt").string()), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(remote("here.txt")));
}

TEST_F(StagerTest, TheStopFlagStopsBetweenChunksAndKeepsThePart) {
  spit(local("big.bin"), big(3 << 20, 's'));
  std::atomic<bool> stop{true};
  Stager s(t_);
  s.set_stop(&stop);
  EXPECT_THROW(s.upload({{local("big.bin"), remote("big.bin")}}), flow::staging::Stopped);
  EXPECT_FALSE(fs::exists(remote("big.bin")));
  stop = false;
  auto r = s.upload({{local("big.bin"), remote("big.bin")}});
  EXPECT_EQ(slurp(remote("big.bin")), big(3 << 20, 's'));
  EXPECT_EQ(r.sent, 1);
}

TEST_F(StagerTest, DownloadChecksTheSitesHashAndContinuesAPartialCopy) {
  const std::string content = big(700000, 'd');
  spit(remote("out/model.pt"), content);
  Stager s(t_);
  const std::string sha = flow::sha256_hex(content);
  // A download that died earlier left the first 100000 bytes.
  spit(Stager::part_name(local("model.pt").string(), sha), content.substr(0, 100000));
  std::map<std::string, std::string> shas;
  auto r = s.download({{local("model.pt"), remote("out/model.pt")}}, &shas);
  EXPECT_EQ(slurp(local("model.pt")), content);
  EXPECT_EQ(r.resumed, 1);
  EXPECT_EQ(r.bytes, 600000u);
  EXPECT_EQ(shas[remote("out/model.pt")], sha);
  auto again = s.download({{local("model.pt"), remote("out/model.pt")}});
  EXPECT_EQ(again.unchanged, 1);
  EXPECT_EQ(again.bytes, 0u);
  EXPECT_TRUE(parts_in(here_.path()).empty());
}

TEST_F(StagerTest, DownloadOfFilesMissingOnTheSiteNamesThemAndCopiesNothing) {
  spit(remote("a.txt"), "a");
  Stager s(t_);
  try {
    s.download({{local("a.txt"), remote("a.txt")}, {local("b.txt"), remote("b.txt")}});
    FAIL() << "no error";
  } catch (const StageError& e) {
    EXPECT_NE(std::string(e.what()).find(remote("b.txt")), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(local("a.txt")));
}

TEST_F(StagerTest, ManyFilesInSeveralBatchesAreEachCheckedAgainstTheirOwnSiteHash) {
  // 23 files, the site's hashes asked for in batches of 7 (3 full, one of 2): every file
  // must get its own hash back; names with a space, a quote or a leading dash included.
  std::vector<FileCopy> files;
  std::map<std::string, std::string> want;
  for (int i = 0; i < 23; ++i) {
    const std::string name = i == 0   ? "-dash.bin"
                             : i == 1 ? "it's a file.bin"
                                      : "f" + std::to_string(i) + ".bin";
    const std::string content = big(1000 + static_cast<size_t>(i) * 4099, static_cast<char>(i));
    spit(remote("out/" + name), content);
    files.push_back({local("got/" + name), remote("out/" + name)});
    want[remote("out/" + name)] = flow::sha256_hex(content);
  }
  flow::staging::StagerOptions o;
  o.batch = 7;
  Stager s(t_, o);
  std::map<std::string, std::string> shas;
  auto r = s.download(files, &shas);
  EXPECT_EQ(r.sent, 23);
  EXPECT_EQ(shas, want);
  for (const auto& f : files)
    EXPECT_EQ(flow::sha256_file(f.local), want[f.remote]) << f.remote;
}

TEST_F(StagerTest, CodeGoesThroughTheContentCacheAndOnlyChangedContentIsSent) {
  spit(local("code/a.py"), "print('a')\n");
  spit(local("code/lib/b.py"), "print('b')\n");
  spit(local("code/same.py"), "print('a')\n");  // same content as a.py: one object
  spit(local("code/__pycache__/a.cpython-311.pyc"), "cache");
  ::chmod(local("code/lib/b.py").c_str(), 0755);
  auto files = flow::staging::code_files(here_.path(), {"code"});
  ASSERT_EQ(files.size(), 3u) << "__pycache__ is skipped";
  auto copies = [&](const std::string& run) {
    std::vector<FileCopy> out;
    for (const auto& f : files)
      out.push_back({f.local, remote("runs/" + run + "/" + f.relative)});
    return out;
  };
  Stager s(t_);
  auto first = s.sync_tree(copies("r1"), remote("cache"));
  EXPECT_EQ(first.files, 3);
  EXPECT_EQ(first.sent, 2) << "two distinct contents";
  EXPECT_EQ(slurp(remote("runs/r1/code/lib/b.py")), "print('b')\n");
  struct stat st {};
  ASSERT_EQ(::stat(remote("runs/r1/code/lib/b.py").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR) << "executable files stay executable";
  EXPECT_FALSE(st.st_mode & S_IWUSR) << "staged code is read-only";
  EXPECT_GE(st.st_nlink, 2u) << "a hard link to the cache object";

  spit(local("code/lib/b.py"), "print('B')\n");
  files = flow::staging::code_files(here_.path(), {"code"});
  auto second = s.sync_tree(copies("r2"), remote("cache"));
  EXPECT_EQ(second.sent, 1);
  EXPECT_EQ(second.unchanged, 2);
  EXPECT_EQ(second.bytes, 11u);
  EXPECT_EQ(slurp(remote("runs/r2/code/lib/b.py")), "print('B')\n");
  EXPECT_EQ(slurp(remote("runs/r1/code/lib/b.py")), "print('b')\n") << "run r1 keeps its code";
}

// Placing code files is one `tar -x` of a hard-link archive however many files there are: a
// second try's sync replaces what the first left, every destination shares its object's
// inode, and no archive is left in the cache.
TEST_F(StagerTest, CodeFilesArePlacedAsHardLinksByOneArchiveAndATryReplacesThem) {
  const std::vector<FileCopy> copies = code_files_of_run_r1();
  spit(remote("runs/r1/code/d0/f0.py"), "left by an earlier try\n");
  // Counts the site commands that place files.
  struct Counting : flow::transport::LocalTransport {
    int tars = 0, lns = 0;
    flow::transport::CommandResult run(const std::string& cmd,
                                       std::chrono::milliseconds timeout) override {
      tars += cmd.find("tar -x") != std::string::npos;
      lns += cmd.find("ln -f") != std::string::npos;
      return LocalTransport::run(cmd, timeout);
    }
  } counting;
  Stager s(counting);
  auto r = s.sync_tree(copies, remote("cache"));
  EXPECT_EQ(counting.tars, 1);
  EXPECT_EQ(counting.lns, 0);
  EXPECT_EQ(r.files, 300);
  EXPECT_EQ(r.sent, 50) << "50 distinct contents";
  for (int i : {0, 1, 149, 299}) {
    const std::string rel = "code/d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".py";
    EXPECT_EQ(slurp(remote("runs/r1/" + rel)), "print(" + std::to_string(i % 50) + ")\n") << rel;
  }
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat(remote("runs/r1/code/d0/f0.py").c_str(), &a), 0);
  ASSERT_EQ(::stat(remote("runs/r1/code/d1/f50.py").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino) << "same content: the same cache object";
  for (const auto& e : fs::directory_iterator(remote("cache")))
    EXPECT_EQ(e.path().filename().string().find(".flow-links."), std::string::npos) << e.path();
}

// A site without a working `tar` (or that refuses hard links through it) still gets every
// code file, placed one by one with `ln`.
TEST_F(StagerTest, WithoutTarCodeFilesArePlacedOneByOneWithLn) {
  struct NoTar : flow::transport::LocalTransport {
    int lns = 0;
    flow::transport::CommandResult run(const std::string& cmd,
                                       std::chrono::milliseconds timeout) override {
      if (cmd.find("tar -x") != std::string::npos) return {127, "", "sh: tar: not found"};
      lns += cmd.find("ln -f") != std::string::npos;
      return LocalTransport::run(cmd, timeout);
    }
  } no_tar;
  const std::vector<FileCopy> copies = code_files_of_run_r1();
  Stager s(no_tar);
  auto r = s.sync_tree(copies, remote("cache"));
  EXPECT_EQ(r.sent, 50);
  EXPECT_EQ(no_tar.lns, 2) << "300 files in batches of 256";
  EXPECT_EQ(slurp(remote("runs/r1/code/d5/f299.py")), "print(49)\n");
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat(remote("runs/r1/code/d0/f0.py").c_str(), &a), 0);
  ASSERT_EQ(::stat(remote("runs/r1/code/d1/f50.py").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

namespace {

// What the connections of one Counting transport and those it opened share.
struct Fleet {
  std::atomic<int> opened{0};
  bool refuse_more = false;  // open_another() fails: a site that allows one login
  std::string refuse;        // a file name whose upload the site refuses midway
  std::mutex mutex;
  std::map<int, int> files_by_link;  // link id -> files it sent or received
};

// LocalTransport that counts, per connection, the files it moved.
class Counting : public flow::transport::LocalTransport {
 public:
  Counting(std::shared_ptr<Fleet> fleet, int id) : fleet_(std::move(fleet)), id_(id) {}
  uint64_t send_file(const fs::path& local, uint64_t offset, const std::string& remote, int mode,
                     const flow::transport::ChunkSink& sent) override {
    count();
    if (!fleet_->refuse.empty() && local.filename() == fleet_->refuse) {
      std::ofstream(remote, std::ios::binary) << "half";  // what a refused write leaves
      throw flow::EnvironmentError("Permission denied");
    }
    return LocalTransport::send_file(local, offset, remote, mode, sent);
  }
  uint64_t receive_file(const std::string& remote, uint64_t offset,
                        const flow::transport::ChunkSink& sink) override {
    count();
    return LocalTransport::receive_file(remote, offset, sink);
  }
  std::unique_ptr<Transport> open_another() const override {
    if (fleet_->refuse_more) throw flow::transport::Unreachable("too many logins");
    return std::make_unique<Counting>(fleet_, ++fleet_->opened);
  }

 private:
  void count() {
    std::lock_guard lock(fleet_->mutex);
    fleet_->files_by_link[id_]++;
  }
  std::shared_ptr<Fleet> fleet_;
  int id_;
};

// 40 files of different sizes in 5 directories, with their contents.
std::map<std::string, std::string> many_files() {
  std::map<std::string, std::string> out;
  for (int i = 0; i < 40; ++i)
    out["d" + std::to_string(i % 5) + "/f" + std::to_string(i) + ".bin"] =
        big(500 + static_cast<size_t>(i) * 331, static_cast<char>(i));
  return out;
}

// Options that spread batches of `batch_files` files over `streams` connections.
flow::staging::StagerOptions spread(int streams, size_t batch_files) {
  flow::staging::StagerOptions o;
  o.streams = streams;
  o.batch_files = batch_files;
  return o;
}

}  // namespace

std::vector<FileCopy> StagerTest::many_uploads() {
  std::vector<FileCopy> up;
  for (const auto& [rel, content] : many_files()) {
    spit(local("data/" + rel), content);
    up.push_back({local("data/" + rel), remote("run/" + rel)});
  }
  return up;
}

namespace {}  // namespace

TEST_F(StagerTest, BatchesSpreadOverSeveralConnectionsAndEveryFileArrivesChecked) {
  auto fleet = std::make_shared<Fleet>();
  Counting link(fleet, 0);
  Stager s(link, spread(3, 4));  // 10 batches
  const std::vector<FileCopy> up = many_uploads();
  std::vector<FileCopy> down;
  std::map<std::string, std::string> want;
  for (const auto& [rel, content] : many_files()) {
    down.push_back({local("back/" + rel), remote("run/" + rel)});
    want[remote("run/" + rel)] = flow::sha256_hex(content);
  }
  auto r = s.upload(up);
  EXPECT_EQ(r.files, 40);
  EXPECT_EQ(r.sent, 40);
  EXPECT_EQ(fleet->opened.load(), 2) << "two more connections, kept for later calls";
  EXPECT_GE(fleet->files_by_link.size(), 2u) << "the batches were shared";
  for (const auto& [rel, content] : many_files())
    EXPECT_EQ(slurp(remote("run/" + rel)), content) << rel;
  EXPECT_TRUE(parts_in(site_.path()).empty());

  std::map<std::string, std::string> shas;
  auto d = s.download(down, &shas);
  EXPECT_EQ(d.sent, 40);
  EXPECT_EQ(shas, want);
  for (const auto& [rel, content] : many_files())
    EXPECT_EQ(slurp(local("back/" + rel)), content) << rel;
  EXPECT_TRUE(parts_in(here_.path()).empty());

  auto again = s.upload(up);
  EXPECT_EQ(again.unchanged, 40);
  EXPECT_EQ(again.bytes, 0u);
  EXPECT_EQ(fleet->opened.load(), 2) << "the connections were reused";
}

TEST_F(StagerTest, AFileTheSiteRefusesStopsEveryConnectionAndTheErrorNamesIt) {
  auto fleet = std::make_shared<Fleet>();
  fleet->refuse = "f27.bin";
  Counting link(fleet, 0);
  Stager s(link, spread(3, 2));
  const std::vector<FileCopy> up = many_uploads();
  try {
    s.upload(up);
    FAIL() << "no error";
  } catch (const StageError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(local("data/d2/f27.bin").string()), std::string::npos) << m;
    EXPECT_NE(m.find("Permission denied"), std::string::npos) << m;
  }
  EXPECT_FALSE(fs::exists(remote("run/d2/f27.bin")));
  // Whatever is in place is whole; no part of the refused file stays.
  for (const auto& [rel, content] : many_files())
    if (fs::exists(remote("run/" + rel))) {
      EXPECT_EQ(slurp(remote("run/" + rel)), content) << rel;
    }
  for (const auto& p : parts_in(site_.path()))
    EXPECT_EQ(p.find("f27.bin"), std::string::npos) << p;

  fleet->refuse.clear();  // the site takes it now: the next call completes the rest
  auto r = s.upload(up);
  EXPECT_EQ(r.sent + r.unchanged, 40);
  EXPECT_GE(r.sent, 1);
  for (const auto& [rel, content] : many_files())
    EXPECT_EQ(slurp(remote("run/" + rel)), content) << rel;
  EXPECT_TRUE(parts_in(site_.path()).empty());
}

TEST_F(StagerTest, ASiteThatAllowsOneConnectionGetsEveryFileThroughIt) {
  auto fleet = std::make_shared<Fleet>();
  fleet->refuse_more = true;
  Counting link(fleet, 0);
  Stager s(link, spread(4, 3));
  const std::vector<FileCopy> up = many_uploads();
  auto r = s.upload(up);
  EXPECT_EQ(r.sent, 40);
  EXPECT_EQ(fleet->files_by_link.size(), 1u);
  EXPECT_EQ(fleet->files_by_link[0], 40);
  for (const auto& [rel, content] : many_files())
    EXPECT_EQ(slurp(remote("run/" + rel)), content) << rel;
}

TEST_F(StagerTest, BatchesEndAtTheirFileCountOrByteSize) {
  flow::staging::StagerOptions o;
  o.batch_files = 3;
  o.batch_bytes = 100;
  // Through upload's report: 7 tiny files (3 batches) and files of 60, 60, 250, 10 bytes.
  // What matters is that every file arrives whatever the cut; the cut itself is private,
  // so the batches are observed through the commands the site runs.
  struct Log : flow::transport::LocalTransport {
    int sha_commands = 0;
    flow::transport::CommandResult run_idempotent(const std::string& cmd,
                                                  std::chrono::milliseconds timeout) override {
      if (cmd.rfind("sha256sum", 0) == 0) sha_commands++;
      return LocalTransport::run_idempotent(cmd, timeout);
    }
  } log;
  std::vector<FileCopy> up;
  const std::vector<size_t> sizes = {1, 1, 1, 1, 1, 1, 1, 60, 60, 250, 10};
  for (size_t i = 0; i < sizes.size(); ++i) {
    spit(local("s/" + std::to_string(i)), std::string(sizes[i], 'a' + static_cast<char>(i)));
    up.push_back({local("s/" + std::to_string(i)), remote("s/" + std::to_string(i))});
  }
  Stager s(log, o);
  auto r = s.upload(up);
  EXPECT_EQ(r.sent, 11);
  // Batches: [1 1 1] [1 1 1] [1 60] [60] [250] [10]: one check of the parts per batch.
  EXPECT_EQ(log.sha_commands, 6);
}
