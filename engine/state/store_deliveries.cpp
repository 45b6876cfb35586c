// Store: the `deliveries` table (docs/ALERTS.md).
#include "engine/state/store_impl.hpp"

namespace flow::state {

int64_t Store::add_delivery(const DeliveryRecord& d) {
  Stmt st(*impl_,
          "INSERT INTO deliveries(run_id, instance_id, event, try, kind, target, state, attempts, "
          "error, created_ms, updated_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  st.bind(d.run_id).bind(d.instance_id).bind(d.event).bind(d.try_number).bind(d.kind);
  st.bind(d.target).bind(d.state).bind(d.attempts).bind(d.error).bind(d.created).bind(d.updated);
  st.run();
  return sqlite3_last_insert_rowid(impl_->db);
}

void Store::update_delivery(const DeliveryRecord& d) {
  Stmt st(*impl_, "UPDATE deliveries SET state=?, attempts=?, error=?, updated_ms=? WHERE id=?");
  st.bind(d.state).bind(d.attempts).bind(d.error).bind(d.updated).bind(d.id).run();
}

std::vector<DeliveryRecord> Store::deliveries(const std::string& run_id) {
  Stmt st(*impl_,
          "SELECT id, run_id, instance_id, event, try, kind, target, state, attempts, error, "
          "created_ms, updated_ms FROM deliveries WHERE run_id=? ORDER BY id");
  st.bind(run_id);
  std::vector<DeliveryRecord> out;
  while (st.step()) {
    DeliveryRecord d;
    d.id = st.i64(0);
    d.run_id = st.text(1);
    d.instance_id = st.text(2);
    d.event = st.text(3);
    d.try_number = st.i32(4);
    d.kind = st.text(5);
    d.target = st.text(6);
    d.state = st.text(7);
    d.attempts = st.i32(8);
    d.error = st.text(9);
    d.created = st.i64(10);
    d.updated = st.i64(11);
    out.push_back(std::move(d));
  }
  return out;
}

int Store::abandon_deliveries(const std::string& run_id, const std::string& why, EpochMs at,
                              int64_t before_id) {
  Stmt st(*impl_,
          "UPDATE deliveries SET state='abandoned', error=?, updated_ms=? "
          "WHERE run_id=? AND state='pending' AND id<?");
  st.bind(why).bind(at).bind(run_id).bind(before_id).run();
  return sqlite3_changes(impl_->db);
}

}  // namespace flow::state
