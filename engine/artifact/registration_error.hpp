#pragma once
// Why a task's artifacts could not be registered. The run controller turns it into the
// failure message of the try; it is never retried (the same files would fail the same way).

#include <string>

#include "engine/core/error.hpp"

namespace flow::artifact {

class RegistrationError : public Error {
 public:
  explicit RegistrationError(const std::string& message) : Error(ErrorKind::kFailure, message) {}
};

}  // namespace flow::artifact
