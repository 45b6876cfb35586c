#pragma once
// SHA-256 (OpenSSL) as lowercase hex: DAG text hashes, artifact checksums.

#include <filesystem>
#include <string>
#include <string_view>

namespace flow {

std::string sha256_hex(std::string_view data);
// Streams the file; throws EnvironmentError if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace flow
