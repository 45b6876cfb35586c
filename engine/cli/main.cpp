#include "engine/cli/app.hpp"

int main(int argc, char** argv) {
  return flow::cli::run_cli(argc, argv);
}
