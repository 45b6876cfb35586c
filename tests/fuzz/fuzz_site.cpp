// Fuzz target `site`: a site file (sites/NAME.yaml, ~/.config/flow/sites/), as `flow sites`
// and every command that loads the catalogue read it.
#include "engine/site/site.hpp"
#include "tests/fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(flow::fuzz::bytes(data, size));
  flow::fuzz::expect_flow_errors_only("site", [&] {
    flow::site::Site s = flow::site::SiteCatalog::load_text(text, "/fuzz/sites/fuzzsite.yaml");
    if (s.name.empty()) flow::fuzz::fail("a site without a name was accepted");
    if (s.port < 1 || s.port > 65535) flow::fuzz::fail("port out of range was accepted");
    if (s.poll_interval.count() <= 0) flow::fuzz::fail("a poll interval <= 0 was accepted");
  });
  return 0;
}
