#include "engine/artifact/artifact_path.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "engine/artifact/registration_error.hpp"
#include "tests/support/temp_dir.hpp"

using flow::artifact::RegistrationError;
using flow::artifact::resolve_artifact_path;

namespace {

std::string error_of(const std::string& given, const std::filesystem::path& workdir) {
  try {
    resolve_artifact_path(given, workdir);
  } catch (const RegistrationError& e) {
    return e.what();
  }
  return "";
}

class ArtifactPath : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "work" / "out");
    std::ofstream(dir_ / "work" / "out" / "model.onnx") << "bytes";
    std::ofstream(dir_ / "elsewhere.bin") << "bytes";
  }
  std::filesystem::path work() const { return dir_ / "work"; }
  flow::test::TempDir dir_;
};

}  // namespace

TEST_F(ArtifactPath, RelativePathsAreTakenFromTheWorkingDirectory) {
  EXPECT_EQ(resolve_artifact_path("out/model.onnx", work()), work() / "out" / "model.onnx");
  EXPECT_EQ(resolve_artifact_path("./out/../out/model.onnx", work()),
            work() / "out" / "model.onnx");
}

TEST_F(ArtifactPath, AbsolutePathsAreTakenAsIsAndNormalised) {
  auto abs = (dir_ / "elsewhere.bin").string();
  EXPECT_EQ(resolve_artifact_path(abs, work()), dir_ / "elsewhere.bin");
  EXPECT_EQ(resolve_artifact_path((work() / ".." / "elsewhere.bin").string(), work()),
            dir_ / "elsewhere.bin");
}

TEST_F(ArtifactPath, RelativePathsMayNotClimbOutOfTheWorkingDirectory) {
  auto e = error_of("../elsewhere.bin", work());
  EXPECT_NE(e.find("climbs out of the task's working directory " + work().string()),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("absolute path"), std::string::npos) << e;
  EXPECT_NE(error_of("out/../../elsewhere.bin", work()), "");
}

TEST_F(ArtifactPath, MissingFilesAreNamedWithWhatTheTaskWrote) {
  auto e = error_of("out/missing.onnx", work());
  EXPECT_EQ(e, "no such file " + (work() / "out" / "missing.onnx").string() +
                   " (from \"out/missing.onnx\")");
  EXPECT_EQ(error_of((work() / "nope").string(), work()),
            "no such file " + (work() / "nope").string());
}

TEST_F(ArtifactPath, DirectoriesAndFifosAreRefused) {
  auto e = error_of("out", work());
  EXPECT_NE(e.find("is a directory"), std::string::npos) << e;
  ASSERT_EQ(::mkfifo((work() / "pipe").c_str(), 0600), 0);
  e = error_of("pipe", work());
  EXPECT_NE(e.find("is a FIFO; only regular files can be registered"), std::string::npos) << e;
}

TEST_F(ArtifactPath, SymlinksAreFollowedButMustLeadToAFile) {
  std::filesystem::create_symlink(work() / "out" / "model.onnx", work() / "latest.onnx");
  EXPECT_EQ(resolve_artifact_path("latest.onnx", work()), work() / "latest.onnx");
  std::filesystem::create_symlink(work() / "gone.onnx", work() / "dangling.onnx");
  EXPECT_NE(error_of("dangling.onnx", work()).find("symbolic link to a file that does not exist"),
            std::string::npos);
}

TEST_F(ArtifactPath, EmptyPathsAreRefused) {
  EXPECT_EQ(error_of("", work()), "\"path\" is empty");
}

TEST_F(ArtifactPath, UnreadableFilesAreRefused) {
  std::filesystem::permissions(work() / "out" / "model.onnx", std::filesystem::perms::none);
  auto check = [&] {
    return error_of("out/model.onnx", work()).find("is not readable by this user") !=
           std::string::npos;
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(check());
    return;
  }
  // Root reads everything: check as an unprivileged user in a child process, who must be
  // able to reach the file (the scratch directory is 0700) to find it unreadable.
  dir_.share_with_everyone();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    bool dropped = ::setgid(65534) == 0 && ::setuid(65534) == 0;
    ::_exit(dropped ? (check() ? 0 : 1) : 2);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: not refused, 2: could not become nobody";
}
