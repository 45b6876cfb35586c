// The ONNX checker wrapper on models built here with the ONNX protobuf API: a valid one, and
// deliberately broken ones (semantically wrong, truncated, garbage, empty).
#include "operators/onnx/model_check.hpp"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

using flow::onnx_check::check_model_file;
using flow::onnx_check::ModelReport;

namespace {

void tensor(::onnx::ValueInfoProto* v, const std::string& name) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  shape->add_dim()->set_dim_value(12);
}

// y = Relu(x + W): x [batch, 12], W an initializer that is also listed as a graph input
// (as exporters of IR < 4 did), y [batch, 12].
::onnx::ModelProto small_model() {
  ::onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("flow-test");
  m.set_producer_version("1");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("small");
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->add_input("x");
  add->add_input("W");
  add->add_output("h");
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->add_input("h");
  relu->add_output("y");
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(::onnx::TensorProto::FLOAT);
  w->add_dims(12);
  for (int i = 0; i < 12; ++i)
    w->add_float_data(0.5f * static_cast<float>(i));
  tensor(g->add_input(), "x");
  auto* wi = g->add_input();
  wi->set_name("W");
  wi->mutable_type()->mutable_tensor_type()->set_elem_type(::onnx::TensorProto::FLOAT);
  wi->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(12);
  tensor(g->add_output(), "y");
  return m;
}

std::filesystem::path write(const flow::test::TempDir& dir, const std::string& name,
                            const std::string& bytes) {
  auto p = dir / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

}  // namespace

TEST(OnnxModelCheck, AValidModelIsDescribed) {
  flow::test::TempDir dir;
  auto r = check_model_file(write(dir, "m.onnx", small_model().SerializeAsString()));
  EXPECT_TRUE(r.parsed);
  EXPECT_TRUE(r.valid) << r.problem;
  EXPECT_EQ(r.problem, "");
  EXPECT_EQ(r.ir_version, 8);
  ASSERT_EQ(r.opsets.size(), 1u);
  EXPECT_EQ(r.opsets[0].domain, "ai.onnx");
  EXPECT_EQ(r.opsets[0].version, 13);
  EXPECT_EQ(r.producer, "flow-test 1");
  EXPECT_EQ(r.graph_name, "small");
  EXPECT_EQ(r.nodes, 2u);
  ASSERT_EQ(r.inputs.size(), 1u) << "the initializer W is not a real input";
  EXPECT_EQ(r.inputs[0].name, "x");
  EXPECT_EQ(r.inputs[0].type, "tensor(FLOAT)");
  EXPECT_EQ(flow::onnx_check::shape_text(r.inputs[0]), "[batch, 12]");
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].name, "y");

  auto j = flow::onnx_check::to_json(r);
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(j["opsets"][0]["version"], 13);
  EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json({"batch", 12}));
}

TEST(OnnxModelCheck, AnUndefinedInputIsRejectedByTheChecker) {
  flow::test::TempDir dir;
  auto m = small_model();
  m.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
  auto r = check_model_file(write(dir, "m.onnx", m.SerializeAsString()));
  EXPECT_TRUE(r.parsed);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.problem.rfind("the ONNX checker rejected the model: ", 0), 0u) << r.problem;
  EXPECT_NE(r.problem.find("nowhere"), std::string::npos) << r.problem;
}

TEST(OnnxModelCheck, AnUnknownOperatorIsRejected) {
  flow::test::TempDir dir;
  auto m = small_model();
  m.mutable_graph()->mutable_node(1)->set_op_type("NoSuchOp");
  auto r = check_model_file(write(dir, "m.onnx", m.SerializeAsString()));
  EXPECT_FALSE(r.valid);
  EXPECT_NE(r.problem.find("NoSuchOp"), std::string::npos) << r.problem;
}

TEST(OnnxModelCheck, ATruncatedModelIsInvalid) {
  flow::test::TempDir dir;
  std::string bytes = small_model().SerializeAsString();
  for (size_t cut : {bytes.size() / 2, bytes.size() - 3, size_t{7}}) {
    auto r = check_model_file(write(dir, "cut.onnx", bytes.substr(0, cut)));
    EXPECT_FALSE(r.valid) << "cut at " << cut;
    EXPECT_NE(r.problem, "") << "cut at " << cut;
  }
}

TEST(OnnxModelCheck, GarbageIsNotAModel) {
  flow::test::TempDir dir;
  std::string garbage;
  for (int i = 0; i < 256; ++i)
    garbage += static_cast<char>((i * 131 + 7) % 256);
  auto r = check_model_file(write(dir, "g.onnx", garbage));
  EXPECT_FALSE(r.parsed);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.problem, "not an ONNX model: " + (dir / "g.onnx").string() +
                           " does not parse as an onnx.ModelProto (truncated, or another format)");
  EXPECT_EQ(flow::onnx_check::to_json(r).contains("opsets"), false);
}

TEST(OnnxModelCheck, AnEmptyFileIsInvalid) {
  flow::test::TempDir dir;
  auto r = check_model_file(write(dir, "e.onnx", ""));
  EXPECT_FALSE(r.valid);
  EXPECT_NE(r.problem, "");
}

TEST(OnnxModelCheck, AMissingFileIsReportedNotThrown) {
  flow::test::TempDir dir;
  auto r = check_model_file(dir / "none.onnx");
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.problem, "cannot read " + (dir / "none.onnx").string());
}
