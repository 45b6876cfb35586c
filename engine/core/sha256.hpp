#pragma once
// SHA-256 (OpenSSL) as lowercase hex: DAG text hashes, artifact checksums.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace flow {

std::string sha256_hex(std::string_view data);
// Streams the file; throws EnvironmentError if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

// The hash and the size of one read of a file: both describe the same bytes even if the
// file changes meanwhile.
struct FileDigest {
  std::string sha256;  // lowercase hex
  uint64_t size = 0;   // bytes
};
// Streams the file once; throws EnvironmentError naming it if it cannot be read.
FileDigest digest_file(const std::filesystem::path& path);

// Incremental SHA-256 for data that arrives in pieces (a file being downloaded).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  // Lowercase hex of everything given so far; the hasher is spent afterwards.
  std::string hex();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace flow
