#include "ui-tui/store_reader.hpp"

namespace flow::tui {

StoreReader::StoreReader(const std::filesystem::path& db)
    : store_(state::Store::open_existing(db, state::Store::Access::kQueryOnly)) {}

bool StoreReader::changed() {
  const int64_t v = store_->data_version();
  const bool changed = v != data_version_ || data_version_ < 0;
  data_version_ = v;
  return changed;
}

}  // namespace flow::tui
