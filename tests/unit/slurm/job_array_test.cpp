// Job arrays (operators/slurm/job_array.hpp): which tries may share an array, the array's
// script (run here under the real /bin/bash as Slurm would run one element), element ids
// in every shape Slurm prints them, and finding an element again by its array's name.
#include "operators/slurm/job_array.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"
#include "operators/slurm/job_query.hpp"

using namespace flow::slurm;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const char* kElement =
    "#!/bin/bash\n"
    "#SBATCH --job-name=flow.r.t[3].1\n"
    "#SBATCH --partition=debug\n"
    "#SBATCH --nodes=1\n"
    "#SBATCH --output=/w/logs/r/t[3]/1.log\n"
    "#SBATCH --chdir=/w/runs/r\n"
    "\n"
    "export FLOW_MAP_INDEX='3'\n"
    "echo hi\n";

}  // namespace

TEST(JobArray, OnlyNumberedForeachElementsOfTheirOwnTaskAreElements) {
  EXPECT_EQ(foreach_index("tiles[3]", "tiles"), 3);
  EXPECT_EQ(foreach_index("tiles[120]", "tiles"), 120);
  EXPECT_FALSE(foreach_index("tiles", "tiles"));
  EXPECT_FALSE(foreach_index("tune[trial-7]", "tune")) << "an HPO trial is not a foreach element";
  EXPECT_FALSE(foreach_index("other[3]", "tiles"));
  EXPECT_FALSE(foreach_index("tiles[]", "tiles"));
  EXPECT_FALSE(foreach_index("tiles[3]x", "tiles"));
}

TEST(JobArray, ScriptsShareAnArrayWhenTheirSbatchLinesDifferOnlyInNameAndOutput) {
  auto a = array_header(kElement);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "#SBATCH --partition=debug\n#SBATCH --nodes=1\n#SBATCH --chdir=/w/runs/r\n");
  std::string other = kElement;
  other.replace(other.find("t[3]/1.log"), 10, "t[4]/1.log");
  other.replace(other.find("t[3].1"), 6, "t[4].1");
  EXPECT_EQ(array_header(other), a);
  std::string more = kElement;
  more.replace(more.find("--nodes=1"), 9, "--nodes=2");
  EXPECT_NE(array_header(more), a);
  std::string own_array = std::string(kElement);
  own_array.insert(own_array.find("#SBATCH --chdir"), "#SBATCH --array=0-3\n");
  EXPECT_FALSE(array_header(own_array)) << "a script with its own --array stays alone";
  EXPECT_FALSE(array_header("#!/bin/sh\necho no header\n"));
}

TEST(JobArray, AnElementsArrayNameAndIndexFollowFromItsKeyAndMaxArraySize) {
  flow::run::AttemptKey k{"r1", "t[5]", 2};
  auto s = array_slot(k, "t", 5, 1001);
  EXPECT_EQ(s.name, "flow.r1.t.2.array0");
  EXPECT_EQ(s.index, 5);
  auto big = array_slot(k, "t", 2500, 1001);
  EXPECT_EQ(big.name, "flow.r1.t.2.array2");
  EXPECT_EQ(big.index, 498);
  EXPECT_TRUE(is_safe_job_name(big.name));
}

TEST(JobArray, IndexListsAreRangesWhereConsecutive) {
  EXPECT_EQ(array_index_list({0, 1, 2, 3}), "0-3");
  EXPECT_EQ(array_index_list({7, 0, 1, 9, 10, 12, 1}), "0-1,7,9-10,12");
  EXPECT_EQ(array_index_list({5}), "5");
}

TEST(JobArray, ElementIdsInEveryShapeSlurmPrints) {
  EXPECT_EQ(expand_job_id("123"), std::vector<std::string>{"123"});
  EXPECT_EQ(expand_job_id("123_4"), std::vector<std::string>{"123_4"});
  EXPECT_EQ(expand_job_id("123_[4-6%2]"), (std::vector<std::string>{"123_4", "123_5", "123_6"}));
  EXPECT_EQ(expand_job_id("123_[1,3-4]"), (std::vector<std::string>{"123_1", "123_3", "123_4"}));
  EXPECT_EQ(expand_job_id("123_[0-9999999]", 10).size(), 10u) << "bounded";
  for (const char* bad : {"", "x", "123_", "123_x", "123_[", "123_[a-b]", "_4", "123.batch"})
    EXPECT_TRUE(expand_job_id(bad).empty()) << bad;
  EXPECT_TRUE(newer_job_id("1000", "999")) << "by number, not by text";
  EXPECT_TRUE(newer_job_id("123_10", "123_9"));
  EXPECT_TRUE(newer_job_id("124_0", "123_9"));
  EXPECT_FALSE(newer_job_id("123_4", "123_4"));
  EXPECT_EQ(array_job_of("123_4"), "123");
  EXPECT_EQ(array_job_of("123"), "123");
  EXPECT_TRUE(is_job_id("123"));
  EXPECT_TRUE(is_job_id("123_4"));
  for (const char* bad : {"", "123_", "_4", "123_[4-6]", "12 3", "123;rm"})
    EXPECT_FALSE(is_job_id(bad)) << bad;
}

// Lines as the test cluster's sacct printed them for a throttled array.
TEST(JobArray, SacctOfAnArrayGivesOneRecordPerElementPendingOnesIncluded) {
  auto recs = parse_sacct(
      "5010_0|flow.r.t.1.array0|RUNNING|0:0|1796193338|Unknown|None\n"
      "5010_0.batch|batch|RUNNING|0:0|1796193338|Unknown||2|00:00:00|1200K\n"
      "5010_1|flow.r.t.1.array0|COMPLETED|0:0|1796193338|1796193341|None|1|00:00:01|\n"
      "5010_1.batch|batch|COMPLETED|0:0|1796193338|1796193341||1|00:00:01|2048K\n"
      "5010_[3-5%3]|flow.r.t.1.array0|PENDING|0:0|Unknown|Unknown|JobArrayTaskLimit\n");
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[0].job_id, "5010_0");
  EXPECT_EQ(recs[1].job_id, "5010_1");
  EXPECT_EQ(recs[1].status.phase, Phase::kFinished);
  EXPECT_EQ(recs[1].max_rss_bytes, 2048 * 1024) << "the element's step line is its own";
  for (int i = 2; i < 5; ++i) {
    EXPECT_EQ(recs[i].job_id, "5010_" + std::to_string(i + 1));
    EXPECT_EQ(recs[i].status.phase, Phase::kPending);
    EXPECT_EQ(recs[i].reason, "JobArrayTaskLimit");
  }
}

TEST(JobArray, SqueueAndScontrolNameElementsAsArrayUnderscoreIndex) {
  auto q = parse_squeue(
      "5010_3|flow.r.t.1.array0|PENDING|JobArrayTaskLimit\n"
      "5010_[4-5]|flow.r.t.1.array0|PENDING|Priority\n"
      "5011|flow.r.a.1|RUNNING|None\n");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0].job_id, "5010_3");
  EXPECT_EQ(q[2].job_id, "5010_5");
  EXPECT_EQ(q[3].job_id, "5011");
  auto c = parse_scontrol(
      "JobId=5018 ArrayJobId=5010 ArrayTaskId=8 JobName=flow.r.t.1.array0 JobState=FAILED "
      "Reason=NonZeroExitCode ExitCode=3:0\n"
      "JobId=5020 JobName=flow.r.a.1 JobState=COMPLETED ExitCode=0:0\n");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].job_id, "5010_8");
  EXPECT_EQ(c[0].status.exit_code, 3);
  EXPECT_EQ(c[1].job_id, "5020");
}

TEST(JobArray, SacctIsAskedAboutElementsThroughTheirArrayOnce) {
  auto cmd = sacct_by_ids({"5010_3", "5010_7", "5011", "5012_0"}, "now-1hour");
  EXPECT_NE(cmd.find("--jobs=5010,5011,5012"), std::string::npos) << cmd;
}

TEST(JobArray, AnElementIsFoundByItsOwnNameElseByItsArraysNameAndIndex) {
  ArraySlot slot{"flow.r.t.1.array0", 5};
  auto rec = [](std::string id, std::string name) {
    JobRecord r;
    r.job_id = std::move(id);
    r.name = std::move(name);
    return r;
  };
  std::vector<JobRecord> records = {rec("90_4", slot.name), rec("90_5", slot.name),
                                    rec("95_15", slot.name), rec("80", "flow.r.x[5].1")};
  auto e = pick_element(records, "flow.r.t[5].1", slot);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->job_id, "90_5") << "index 5, not 15";
  records.push_back(rec("99_5", slot.name));
  EXPECT_EQ(pick_element(records, "flow.r.t[5].1", slot)->job_id, "99_5") << "the newest array";
  records.push_back(rec("77", "flow.r.t[5].1"));
  EXPECT_EQ(pick_element(records, "flow.r.t[5].1", slot)->job_id, "77") << "its own job first";
  EXPECT_FALSE(pick_element({rec("90_4", slot.name)}, "flow.r.t[5].1", slot));
}

TEST(JobArray, MaxArraySizeIsReadFromScontrolShowConfig) {
  EXPECT_EQ(parse_max_array_size("MaxArraySize            = 1001\nMaxJobCount = 10000\n"), 1001);
  EXPECT_EQ(parse_max_array_size("MaxJobCount = 1\nMaxArraySize = 40001\r\n"), 40001);
  EXPECT_FALSE(parse_max_array_size("MaxJobCount = 1\n"));
  EXPECT_FALSE(parse_max_array_size("XMaxArraySize = 5\n"));
}

// The array's script, run by bash as Slurm runs element 4: it writes element 4's own script
// next to its files and runs it, its output in the element's log.
TEST(JobArray, TheArrayScriptRunsTheElementSlurmStartsWithItsOutputInItsOwnLog) {
  const fs::path dir = fs::temp_directory_path() / ("flow-array-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "e3");
  fs::create_directories(dir / "e4");
  std::vector<ArrayElement> elements = {
      {3, (dir / "e3" / "1").string(), "#!/bin/bash\n#SBATCH --nodes=1\n\necho three\n"},
      {4, (dir / "e4" / "1").string(),
       "#!/bin/bash\n#SBATCH --nodes=1\n\necho \"four $0\"; echo err >&2; exit 3\n"}};
  const std::string script =
      render_array_script("#SBATCH --nodes=1\n", "flow.r.t.1.array0", "/x/%A_%a.log", elements);
  EXPECT_NE(script.find("#SBATCH --array=3-4\n"), std::string::npos) << script;
  EXPECT_NE(script.find("#SBATCH --job-name=flow.r.t.1.array0\n"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --output=/x/%A_%a.log\n"), std::string::npos);
  { std::ofstream(dir / "array.sh") << script; }
  const std::string run = "cd " + dir.string() + " && SLURM_ARRAY_TASK_ID=4 /bin/bash array.sh";
  const int rc = std::system(run.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 3) << "the element's exit status is the array element's";
  EXPECT_EQ(slurp(dir / "e4" / "1.log"), "four " + (dir / "e4" / "1.sbatch").string() + "\nerr\n");
  EXPECT_EQ(slurp(dir / "e4" / "1.sbatch"), elements[1].script);
  EXPECT_FALSE(fs::exists(dir / "e3" / "1.log")) << "only the element Slurm started ran";
  const std::string none =
      "cd " + dir.string() + " && SLURM_ARRAY_TASK_ID=9 /bin/bash array.sh 2>/dev/null";
  EXPECT_EQ(WEXITSTATUS(std::system(none.c_str())), 2);
  fs::remove_all(dir);
}
