#include "operators/transport/transport.hpp"

namespace flow::transport {

namespace {
[[noreturn]] void unsupported(const Transport& t, const char* what) {
  throw EnvironmentError("transport " + t.describe() + " cannot " + what);
}
}  // namespace

uint64_t Transport::send_file(const std::filesystem::path&, uint64_t, const std::string&, int,
                              const ChunkSink&) {
  unsupported(*this, "stream files to the site");
}
uint64_t Transport::receive_file(const std::string&, uint64_t, const ChunkSink&) {
  unsupported(*this, "stream files from the site");
}
void Transport::rename(const std::string&, const std::string&) {
  unsupported(*this, "rename files");
}
void Transport::remove(const std::string&) {
  unsupported(*this, "remove files");
}
void Transport::make_dirs(const std::string&) {
  unsupported(*this, "create directories");
}
std::optional<SpaceInfo> Transport::space(const std::string&) {
  return std::nullopt;
}
std::unique_ptr<Transport> Transport::open_another() const {
  unsupported(*this, "open a second connection");
}

}  // namespace flow::transport
