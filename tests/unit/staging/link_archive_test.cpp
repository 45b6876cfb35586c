// The hard-link archive of staged code (operators/staging/link_archive.hpp), extracted with
// this machine's GNU tar exactly as a site extracts it.
#include "operators/staging/link_archive.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using flow::staging::hard_link_archive;
using flow::staging::HardLink;
using flow::test::TempDir;

namespace {

ino_t inode(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

TEST(LinkArchive, TarMakesEveryDestinationAHardLinkToItsTargetWhateverThePathLength) {
  TempDir d;
  // A link target far past ustar's 100 bytes, and a destination past its 255.
  const fs::path deep = d.path() / std::string(120, 'c') / "sha256";
  fs::create_directories(deep);
  const fs::path object = deep / std::string(64, 'a');
  std::ofstream(object) << "print('x')\n";
  const fs::path far = d.path() / "runs" / std::string(150, 'r') / std::string(150, 's') / "x.py";
  const fs::path near = d.path() / "runs" / "r1" / "x.py";
  fs::create_directories(near.parent_path());
  std::ofstream(near) << "an earlier try\n";
  const std::string tar =
      hard_link_archive({{object.string(), far.string()}, {object.string(), near.string()}});
  EXPECT_EQ(tar.size() % 512, 0u);
  std::ofstream(d.path() / "links.tar", std::ios::binary) << tar;
  ASSERT_EQ(std::system(("tar -x -f '" + (d.path() / "links.tar").string() + "' -C /").c_str()), 0);
  EXPECT_EQ(inode(far), inode(object));
  EXPECT_EQ(inode(near), inode(object)) << "what was there is replaced";
  EXPECT_NE(inode(object), 0u);
}

TEST(LinkArchive, RelativePathsAndDotDotAreRefused) {
  EXPECT_THROW(hard_link_archive({{"cache/a", "/w/runs/r/x"}}), std::invalid_argument);
  EXPECT_THROW(hard_link_archive({{"/w/cache/a", "/w/runs/../../etc/x"}}), std::invalid_argument);
  EXPECT_NO_THROW(hard_link_archive({{"/w/cache/a..b", "/w/runs/r/..x"}}));
}
