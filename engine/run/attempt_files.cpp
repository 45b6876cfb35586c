#include "engine/run/attempt_files.hpp"

#include <unistd.h>

#include <fstream>

#include "engine/core/text_file.hpp"

namespace flow::run {

AttemptFiles attempt_files(const std::filesystem::path& home, const std::string& run_id,
                           const std::string& instance_id, int try_number) {
  auto dir = home / "logs" / run_id / instance_id;
  auto t = std::to_string(try_number);
  return AttemptFiles{dir / (t + ".log"), dir / (t + ".outputs.json"), dir / (t + ".metrics.jsonl"),
                      dir / (t + ".exit")};
}

std::vector<state::MetricRecord> MetricsReader::read(const std::string& instance_id, int try_number,
                                                     const std::filesystem::path& file,
                                                     EpochMs now) {
  std::vector<state::MetricRecord> out;
  // Most tasks write no metrics: a failed access(2) is much cheaper than an ifstream.
  if (::access(file.c_str(), R_OK) != 0) return out;
  std::ifstream in(file, std::ios::binary);
  if (!in) return out;
  Position& pos = positions_[instance_id + "#" + std::to_string(try_number)];
  in.seekg(static_cast<std::streamoff>(pos.offset));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a partial last line: read it when it is complete
    pos.offset += line.size() + 1;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    out.push_back({instance_id, try_number, pos.seq++, now, std::move(j)});
  }
  return out;
}

void MetricsReader::forget(const std::string& instance_id, int try_number) {
  positions_.erase(instance_id + "#" + std::to_string(try_number));
}

Outputs read_outputs(const std::filesystem::path& file) {
  Outputs o;
  auto text = read_file(file);
  if (!text) return o;
  o.written = true;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) {
    o.problem =
        "the task exited 0 but its outputs file " + file.string() + " is not one JSON object";
    return o;
  }
  o.value = std::move(j);
  return o;
}

}  // namespace flow::run
