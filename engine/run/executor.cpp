#include "engine/run/executor.hpp"

namespace flow::run {

std::string AttemptKey::str() const {
  return run_id + "/" + instance_id + "#" + std::to_string(try_number);
}

}  // namespace flow::run
