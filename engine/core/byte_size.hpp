#pragma once
// Byte counts for people: "812 B", "3.4 MiB", "1.2 GiB" (binary units, one decimal).

#include <cstdint>
#include <string>

namespace flow {

std::string human_bytes(uint64_t n);

}  // namespace flow
