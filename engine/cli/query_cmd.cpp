#include "engine/cli/app.hpp"

namespace flow::cli {

void register_query_commands(CLI::App& /*app*/, GlobalOptions& /*g*/, Action& /*action*/) {}

}  // namespace flow::cli
