// dags/ards_pipeline.yaml exactly as the README runs it: preprocess -> ASHA sweep -> train
// with the best parameters -> evaluate -> ONNX export, then the exported model checked in
// C++ by `flow artifacts verify` (the ONNX library's checker).
#include <gtest/gtest.h>

#include "../engine/cli.hpp"

using flow::test::Project;
using nlohmann::json;

TEST(ArdsPipeline, TunesTrainsEvaluatesAndExportsAValidOnnxModel) {
  Project p;
  // The pipeline's commands are relative to the repository root, where users run it.
  auto r = p.flow("run " FLOW_SOURCE_DIR "/dags/ards_pipeline.yaml --run-id ards1 -p rows=2048",
                  "cd " FLOW_SOURCE_DIR " &&");
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  auto h = json::parse(p.flow("hpo ards1 tune --json").out);
  EXPECT_EQ(h["algorithm"], "asha");
  EXPECT_EQ(h["metric"], "val_mae");
  ASSERT_EQ(h["trials"].size(), 12u);
  EXPECT_TRUE(h["best"].is_object());
  EXPECT_EQ(h["trials"][0]["id"], h["best"]["trial"]);

  auto eval = json::parse(p.flow("status ards1 --json").out);
  EXPECT_EQ(eval["run"]["state"], "succeeded");
  auto log = p.flow("logs ards1 evaluate").out;
  EXPECT_NE(log.find("test set"), std::string::npos) << log;

  auto list = json::parse(p.flow("artifacts list --run ards1 --json").out);
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_NE(list[0]["path"].get<std::string>().find("ards_pf_ratio.onnx"), std::string::npos);
  auto v = p.flow("artifacts verify " + list[0]["id"].get<std::string>() + " --json");
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("pf_ratio"), std::string::npos) << v.out;
}
