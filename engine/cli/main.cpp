#include <string_view>

#include "engine/cli/app.hpp"
#include "engine/run/process_keeper.hpp"

int main(int argc, char** argv) {
  // The local executor's process keeper (engine/run/process_keeper.hpp): the engine starts
  // this binary so, its connection on stdin. Not a command for people.
  if (argc == 2 && std::string_view(argv[1]) == "__keeper") return flow::run::keeper_main(0);
  return flow::cli::run_cli(argc, argv);
}
