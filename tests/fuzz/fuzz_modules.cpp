// Fuzz target `modules`: a module-stack file (sites/modules/SYSTEM.yaml), as `flow lamec`
// and the Slurm operator read it, then a job script for each software it lists, rendered
// the way a Slurm task's script is (LAMEC rules, module block, launcher).
#include "engine/site/site.hpp"
#include "operators/lamec/lamec.hpp"
#include "tests/fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flow;
  const std::string text(fuzz::bytes(data, size));
  fuzz::expect_flow_errors_only("modules", [&] {
    lamec::SystemModules system =
        lamec::ModuleCatalog::load_text(text, "/fuzz/sites/modules/fuzzsys.yaml");
    lamec::ModuleCatalog catalog;
    const std::string name = system.name;
    const std::vector<std::string> supported = system.supported();
    catalog.add(std::move(system));
    site::Site site;
    site.name = "fuzz";
    site.transport = site::Transport::kSsh;
    site.scheduler = "slurm";
    site.system = name;
    std::vector<std::string> all;
    for (const auto& sw : supported) {
      dag::SlurmSpec spec;
      spec.software = {sw};
      fuzz::expect_flow_errors_only("script", [&] {
        auto request = lamec::make_request(site, spec, "python3 train.py", catalog);
        (void)lamec::render(request, catalog);
      });
      all.push_back(sw);
    }
    fuzz::expect_flow_errors_only("module block",
                                  [&] { (void)lamec::render_module_block(name, all, catalog); });
    fuzz::expect_flow_errors_only("plain script", [&] {
      auto request = lamec::make_request(site, {}, "hostname", catalog);
      (void)lamec::render(request, catalog);
    });
  });
  return 0;
}
