// The rows of each table: how records are written and read back (SQL and column mapping
// side by side). The connection, transactions and schema are in store.cpp.
#include <optional>

#include "engine/core/error.hpp"
#include "engine/state/store_impl.hpp"

namespace flow::state {

// ---- runs -----------------------------------------------------------------------------

namespace {
// The DAG text is in its own table, run_dags (schema 12): in the runs row it made every
// read of a later column, and every UPDATE of the row, copy all of it (a 1,000,000-item
// foreach written out in YAML is 7 MB, read at each commit's owner check).
constexpr const char* kRunColumns =
    "id, dag, state, dag_file, (SELECT dag_yaml FROM run_dags WHERE run_id=runs.id), "
    "dag_hash, params_json, run_dir, workdir, "
    "logical_date, data_interval_start, data_interval_end, created_ms, started_ms, ended_ms, "
    "parallelism, owner_pid, owner_start, owner_host, heartbeat_ms, cancel_requested, owner_token";

// kRunColumns with '' for the DAG text.
const std::string& run_columns_without_dag() {
  static const std::string columns = [] {
    std::string c = kRunColumns;
    const std::string text = "(SELECT dag_yaml FROM run_dags WHERE run_id=runs.id)";
    return c.replace(c.find(text), text.size(), "''");
  }();
  return columns;
}

RunRecord read_run(const Stmt& st) {
  RunRecord r;
  r.id = st.text(0);
  r.dag = st.text(1);
  r.state = run_state_from(st.text(2)).value_or(RunState::kFailed);
  r.dag_file = st.text(3);
  r.dag_yaml = st.text(4);
  r.dag_hash = st.text(5);
  r.params = st.json(6, nlohmann::json::object());
  r.run_dir = st.text(7);
  r.workdir = st.text(8);
  r.logical_date = st.text(9);
  r.data_interval_start = st.text(10);
  r.data_interval_end = st.text(11);
  r.created = st.i64(12);
  r.started = st.i64(13);
  r.ended = st.i64(14);
  r.parallelism = st.i32(15);
  r.owner_pid = st.i32(16);
  r.owner_start = static_cast<uint64_t>(st.i64(17));
  r.owner_host = st.text(18);
  r.heartbeat = st.i64(19);
  r.cancel_requested = st.i64(20) != 0;
  r.owner_token = st.text(21);
  return r;
}

void bind_run(Stmt& st, const RunRecord& r) {
  st.bind(r.id).bind(r.dag).bind(std::string(to_string(r.state))).bind(r.dag_file);
  st.bind(r.dag_yaml).bind(r.dag_hash).bind(r.params.dump()).bind(r.run_dir).bind(r.workdir);
  st.bind(r.logical_date).bind(r.data_interval_start).bind(r.data_interval_end);
  st.bind(r.created).bind(r.started).bind(r.ended).bind(r.parallelism).bind(r.owner_pid);
  st.bind(r.owner_start).bind(r.owner_host).bind(r.heartbeat).bind(r.cancel_requested ? 1 : 0);
  st.bind(r.owner_token);
}
}  // namespace

void Store::insert_run(const RunRecord& r) {
  // bind_run's parameters by number; ?5, the DAG text, goes to run_dags.
  static const char* sql =
      "INSERT INTO runs(id, dag, state, dag_file, dag_hash, params_json, run_dir, workdir, "
      "logical_date, data_interval_start, data_interval_end, created_ms, started_ms, ended_ms, "
      "parallelism, owner_pid, owner_start, owner_host, heartbeat_ms, cancel_requested, "
      "owner_token) VALUES(?1,?2,?3,?4,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,"
      "?21,?22)";
  // Both rows or neither. Inside a read snapshot (a reader's, which may not write) the
  // INSERT fails as any write there does.
  std::optional<Transaction> tx;
  if (impl_->read_depth == 0) tx.emplace(*this);
  Stmt st(*impl_, sql);
  bind_run(st, r);
  try {
    st.run();
    Stmt text(*impl_, "INSERT INTO run_dags(run_id, dag_yaml) VALUES(?,?)");
    text.bind(r.id).bind(r.dag_yaml).run();
    if (tx) tx->commit();
  } catch (const Error&) {
    if (get_run(r.id)) {
      throw InputError(SourceLocation{}, "a run with id '" + r.id +
                                             "' already exists; choose "
                                             "another --run-id or use 'flow resume " +
                                             r.id + "'");
    }
    throw;
  }
}

void Store::update_run(const RunRecord& r) {
  // cancel_requested is only ever set (by another process), never cleared by the owner.
  static const char* sql =
      "UPDATE runs SET state=?3, started_ms=?14, ended_ms=?15, owner_pid=?17, owner_start=?18, "
      "owner_host=?19, heartbeat_ms=?20, cancel_requested=max(cancel_requested, ?21), "
      "parallelism=?16, owner_token=?22 WHERE id=?1";
  Stmt st(*impl_, sql);
  bind_run(st, r);
  st.run();
}

std::optional<std::string> Store::owner_token(const std::string& run_id) {
  Stmt st(*impl_, "SELECT owner_token FROM runs WHERE id=?");
  st.bind(run_id);
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

void Store::set_cancel_requested(const std::string& run_id, bool requested) {
  Stmt st(*impl_, "UPDATE runs SET cancel_requested=? WHERE id=?");
  st.bind(requested ? 1 : 0).bind(run_id).run();
}

std::optional<RunRecord> Store::get_run(const std::string& run_id) {
  static const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id=?";
  Stmt st(*impl_, sql);
  st.bind(run_id);
  if (!st.step()) return std::nullopt;
  return read_run(st);
}

std::optional<RunRecord> Store::get_run_without_dag(const std::string& run_id) {
  static const std::string sql = "SELECT " + run_columns_without_dag() + " FROM runs WHERE id=?";
  Stmt st(*impl_, sql);
  st.bind(run_id);
  if (!st.step()) return std::nullopt;
  return read_run(st);
}

std::vector<RunRecord> Store::runs_in_state(const std::string& dag, RunState state) {
  static const std::string sql = std::string("SELECT ") + kRunColumns +
                                 " FROM runs WHERE dag=? AND state=? ORDER BY created_ms, rowid";
  Stmt st(*impl_, sql);
  st.bind(dag).bind(std::string(to_string(state)));
  std::vector<RunRecord> out;
  while (st.step())
    out.push_back(read_run(st));
  return out;
}

std::vector<RunRecord> Store::runs_for_interval(const std::string& dag,
                                                const std::string& data_interval_start) {
  static const std::string sql =
      std::string("SELECT ") + kRunColumns +
      " FROM runs WHERE dag=? AND data_interval_start=? ORDER BY created_ms, rowid";
  Stmt st(*impl_, sql);
  st.bind(dag).bind(data_interval_start);
  std::vector<RunRecord> out;
  while (st.step())
    out.push_back(read_run(st));
  return out;
}

std::vector<RunRecord> Store::list_runs(const std::string& dag, int limit) {
  // `flow runs` and the TUI's run list (which reads again at every change) would read
  // megabytes per large DAG.
  static const std::string all = "SELECT " + run_columns_without_dag() +
                                 " FROM runs ORDER BY created_ms DESC, rowid DESC LIMIT ?";
  static const std::string by_dag = "SELECT " + run_columns_without_dag() +
                                    " FROM runs WHERE dag=? ORDER BY created_ms DESC, rowid DESC "
                                    "LIMIT ?";
  Stmt st(*impl_, dag.empty() ? all : by_dag);
  if (!dag.empty()) st.bind(dag);
  st.bind(limit <= 0 ? int64_t{-1} : int64_t{limit});
  std::vector<RunRecord> out;
  while (st.step())
    out.push_back(read_run(st));
  return out;
}

// ---- scheduler state ------------------------------------------------------------------

std::optional<ScheduleRecord> Store::get_schedule(const std::string& dag) {
  Stmt st(*impl_,
          "SELECT dag, schedule, timezone, dag_file, first_seen_ms, last_fire_ms, updated_ms "
          "FROM schedules WHERE dag=?");
  st.bind(dag);
  if (!st.step()) return std::nullopt;
  return ScheduleRecord{st.text(0), st.text(1), st.text(2), st.text(3),
                        st.i64(4),  st.i64(5),  st.i64(6)};
}

void Store::put_schedule(const ScheduleRecord& s) {
  Stmt st(*impl_,
          "INSERT INTO schedules(dag, schedule, timezone, dag_file, first_seen_ms, last_fire_ms, "
          "updated_ms) VALUES(?,?,?,?,?,?,?) ON CONFLICT(dag) DO UPDATE SET "
          "schedule=excluded.schedule, timezone=excluded.timezone, dag_file=excluded.dag_file, "
          "first_seen_ms=excluded.first_seen_ms, last_fire_ms=excluded.last_fire_ms, "
          "updated_ms=excluded.updated_ms");
  st.bind(s.dag).bind(s.schedule).bind(s.timezone).bind(s.dag_file).bind(s.first_seen);
  st.bind(s.last_fire).bind(s.updated).run();
}

// ---- instances ------------------------------------------------------------------------

namespace {
constexpr const char* kInstanceColumns =
    "run_id, id, task_id, parent, map_index, state, try, failures, site, pid, pid_start, "
    "job_id, job_name, started_ms, ended_ms, next_try_ms, exit_code, signal, native_state, "
    "message, outputs_json, attrs_json";

InstanceRecord read_instance(const Stmt& st) {
  InstanceRecord r;
  r.run_id = st.text(0);
  r.id = st.text(1);
  r.task_id = st.text(2);
  r.parent = st.text(3);
  r.map_index = st.i32(4);
  r.state = task_state_from(st.text(5)).value_or(TaskState::kFailed);
  r.try_number = st.i32(6);
  r.failures = st.i32(7);
  r.site = st.text(8);
  r.pid = st.i32(9);
  r.pid_start = static_cast<uint64_t>(st.i64(10));
  r.job_id = st.text(11);
  r.job_name = st.text(12);
  r.started = st.i64(13);
  r.ended = st.i64(14);
  r.next_try_at = st.i64(15);
  r.exit_code = st.i32(16);
  r.signal = st.i32(17);
  r.native_state = st.text(18);
  r.message = st.text(19);
  r.outputs = st.json(20, nullptr);
  r.attrs = st.json(21, nullptr);
  if (r.attrs.is_object() && r.attrs.empty()) r.attrs = nullptr;  // records.hpp: no allocation
  return r;
}
}  // namespace

void Store::put_instance(const InstanceRecord& r) {
  put_instance(r.run_id, r);
}

void Store::put_instance(const std::string& run_id, const InstanceRecord& r) {
  // An upsert keeps the rowid, which orders instances by creation.
  static const std::string sql =
      std::string("INSERT INTO instances(") + kInstanceColumns +
      ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id, id) DO UPDATE "
      // Not task_id, parent, map_index: an instance id keeps them for life, and setting
      // them would rewrite its entry of the index by task at every state change.
      "SET state=excluded.state, try=excluded.try, failures=excluded.failures, site=excluded.site, "
      "pid=excluded.pid, pid_start=excluded.pid_start, job_id=excluded.job_id, "
      "job_name=excluded.job_name, started_ms=excluded.started_ms, ended_ms=excluded.ended_ms, "
      "next_try_ms=excluded.next_try_ms, exit_code=excluded.exit_code, signal=excluded.signal, "
      "native_state=excluded.native_state, message=excluded.message, "
      "outputs_json=excluded.outputs_json, attrs_json=excluded.attrs_json";
  Stmt st(*impl_, sql);
  st.bind(run_id).bind(r.id).bind(r.task_id).bind(r.parent).bind(r.map_index);
  st.bind(std::string(to_string(r.state))).bind(r.try_number).bind(r.failures).bind(r.site);
  st.bind(r.pid).bind(r.pid_start).bind(r.job_id).bind(r.job_name).bind(r.started);
  st.bind(r.ended).bind(r.next_try_at).bind(r.exit_code).bind(r.signal).bind(r.native_state);
  st.bind(r.message).bind_json_or_null(r.outputs).bind(r.attrs.is_null() ? "{}" : r.attrs.dump());
  st.run();
}

void Store::delete_instance(const std::string& run_id, const std::string& instance_id) {
  Stmt st(*impl_, "DELETE FROM instances WHERE run_id=? AND id=?");
  st.bind(run_id).bind(instance_id).run();
}

std::vector<InstanceRecord> Store::instances(const std::string& run_id) {
  std::vector<InstanceRecord> out;
  for_each_instance(run_id, [&](InstanceRecord r) { out.push_back(std::move(r)); });
  return out;
}

void Store::for_each_instance(const std::string& run_id,
                              const std::function<void(InstanceRecord)>& each) {
  static const std::string sql =
      std::string("SELECT ") + kInstanceColumns + " FROM instances WHERE run_id=? ORDER BY rowid";
  Stmt st(*impl_, sql);
  st.bind(run_id);
  while (st.step())
    each(read_instance(st));
}

std::optional<InstanceRecord> Store::get_instance(const std::string& run_id,
                                                  const std::string& id) {
  static const std::string sql =
      std::string("SELECT ") + kInstanceColumns + " FROM instances WHERE run_id=? AND id=?";
  Stmt st(*impl_, sql);
  st.bind(run_id).bind(id);
  if (!st.step()) return std::nullopt;
  return read_instance(st);
}

// ---- tries, events, metrics -----------------------------------------------------------

void Store::put_try(const TryRecord& t) {
  // An upsert, not INSERT OR REPLACE: REPLACE deletes and re-inserts the row, which made
  // this the most expensive statement of a tick (a try row is written at every state
  // change of its instance).
  static const char* sql =
      "INSERT INTO tries(run_id, instance_id, try, state, site, pid, job_id, job_name, script, "
      "log_path, started_ms, ended_ms, exit_code, signal, native_state, message, cpu_ms, "
      "max_rss_bytes, wall_ms, cpus, segment, segment_try, gpus) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id, instance_id, try) "
      "DO "
      "UPDATE "
      "SET state=excluded.state, site=excluded.site, pid=excluded.pid, job_id=excluded.job_id, "
      "job_name=excluded.job_name, script=excluded.script, log_path=excluded.log_path, "
      "started_ms=excluded.started_ms, ended_ms=excluded.ended_ms, exit_code=excluded.exit_code, "
      "signal=excluded.signal, native_state=excluded.native_state, message=excluded.message, "
      "cpu_ms=excluded.cpu_ms, max_rss_bytes=excluded.max_rss_bytes, wall_ms=excluded.wall_ms, "
      "cpus=excluded.cpus, segment=excluded.segment, segment_try=excluded.segment_try, "
      "gpus=excluded.gpus";
  Stmt st(*impl_, sql);
  st.bind(t.run_id).bind(t.instance_id).bind(t.try_number).bind(std::string(to_string(t.state)));
  st.bind(t.site).bind(t.pid).bind(t.job_id).bind(t.job_name).bind(t.script).bind(t.log_path);
  st.bind(t.started).bind(t.ended).bind(t.exit_code).bind(t.signal).bind(t.native_state);
  st.bind(t.message).bind(t.usage.cpu_ms).bind(t.usage.max_rss_bytes).bind(t.usage.wall_ms);
  st.bind(t.usage.cpus).bind(t.segment).bind(t.segment_try).bind(t.usage.gpus).run();
}

namespace {

constexpr const char* kTryColumns =
    "SELECT run_id, instance_id, try, state, site, pid, job_id, job_name, script, log_path, "
    "started_ms, ended_ms, exit_code, signal, native_state, message, cpu_ms, max_rss_bytes, "
    "wall_ms, cpus, segment, segment_try, gpus FROM tries ";

std::vector<TryRecord> read_tries(Stmt& st) {
  std::vector<TryRecord> out;
  while (st.step()) {
    TryRecord t;
    t.run_id = st.text(0);
    t.instance_id = st.text(1);
    t.try_number = st.i32(2);
    t.state = task_state_from(st.text(3)).value_or(TaskState::kFailed);
    t.site = st.text(4);
    t.pid = st.i32(5);
    t.job_id = st.text(6);
    t.job_name = st.text(7);
    t.script = st.text(8);
    t.log_path = st.text(9);
    t.started = st.i64(10);
    t.ended = st.i64(11);
    t.exit_code = st.i32(12);
    t.signal = st.i32(13);
    t.native_state = st.text(14);
    t.message = st.text(15);
    t.usage.cpu_ms = st.i64(16);
    t.usage.max_rss_bytes = st.i64(17);
    t.usage.wall_ms = st.i64(18);
    t.usage.cpus = st.i32(19);
    t.segment = st.i32(20);
    t.segment_try = st.i32(21);
    t.usage.gpus = st.i32(22);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

std::vector<TryRecord> Store::tries(const std::string& run_id, const std::string& instance_id) {
  static const std::string sql =
      std::string(kTryColumns) + "WHERE run_id=? AND instance_id=? ORDER BY try";
  Stmt st(*impl_, sql.c_str());
  st.bind(run_id).bind(instance_id);
  return read_tries(st);
}

std::vector<TryRecord> Store::run_tries(const std::string& run_id) {
  static const std::string sql =
      std::string(kTryColumns) + "WHERE run_id=? ORDER BY instance_id, try";
  Stmt st(*impl_, sql.c_str());
  st.bind(run_id);
  return read_tries(st);
}

void Store::add_event(const EventRecord& e) {
  Stmt st(
      *impl_,
      "INSERT INTO events(run_id, instance_id, try, ts_ms, state, message) VALUES(?,?,?,?,?,?)");
  st.bind(e.run_id).bind(e.instance_id).bind(e.try_number).bind(e.ts).bind(e.state);
  st.bind(e.message).run();
}

std::vector<EventRecord> Store::events(const std::string& run_id, int64_t after_seq) {
  Stmt st(*impl_,
          "SELECT seq, run_id, instance_id, try, ts_ms, state, message FROM events "
          "WHERE run_id=? AND seq>? ORDER BY seq");
  st.bind(run_id).bind(after_seq);
  std::vector<EventRecord> out;
  while (st.step()) {
    out.push_back(
        {st.i64(0), st.text(1), st.text(2), st.i32(3), st.i64(4), st.text(5), st.text(6)});
  }
  return out;
}

void Store::add_metric(const std::string& run_id, const MetricRecord& m) {
  Stmt st(*impl_,
          "INSERT OR IGNORE INTO metrics(run_id, instance_id, try, seq, ts_ms, json) "
          "VALUES(?,?,?,?,?,?)");
  st.bind(run_id).bind(m.instance_id).bind(m.try_number).bind(m.seq).bind(m.ts);
  st.bind(m.values.dump()).run();
}

std::vector<MetricRecord> Store::metrics(const std::string& run_id,
                                         const std::string& instance_id) {
  Stmt st(*impl_,
          "SELECT instance_id, try, seq, ts_ms, json FROM metrics WHERE run_id=? AND "
          "instance_id=? ORDER BY try, seq");
  st.bind(run_id).bind(instance_id);
  std::vector<MetricRecord> out;
  while (st.step()) {
    out.push_back({st.text(0), st.i32(1), st.i32(2), st.i64(3), st.json(4, nullptr)});
  }
  return out;
}

std::map<std::string, int> Store::state_counts(const std::string& run_id) {
  Stmt st(*impl_, "SELECT state, count(*) FROM instances WHERE run_id=? GROUP BY state");
  st.bind(run_id);
  std::map<std::string, int> out;
  while (st.step())
    out[st.text(0)] = st.i32(1);
  return out;
}

namespace {
// ",queued,failed," for SQL's instr(): one statement whatever the states asked for.
std::string state_list(const std::vector<TaskState>& states) {
  std::string out = ",";
  for (auto s : states)
    out += std::string(to_string(s)) + ",";
  return out;
}
}  // namespace

std::vector<Store::TaskStateCount> Store::task_state_counts(const std::string& run_id) {
  Stmt st(*impl_,
          "SELECT task_id, state, count(*) FROM instances WHERE run_id=? "
          "GROUP BY task_id, state ORDER BY min(min(rowid)) OVER (PARTITION BY task_id), task_id");
  st.bind(run_id);
  std::vector<TaskStateCount> out;
  while (st.step()) {
    out.push_back(
        {st.text(0), task_state_from(st.text(1)).value_or(TaskState::kFailed), st.i64(2)});
  }
  return out;
}

std::vector<InstanceRecord> Store::task_instances(const std::string& run_id,
                                                  const std::string& task_id,
                                                  const std::vector<TaskState>& states,
                                                  const InstanceKey& after, int64_t offset,
                                                  int64_t limit) {
  static const std::string sql =
      std::string("SELECT ") + kInstanceColumns +
      " FROM instances WHERE run_id=?1 AND task_id=?2 AND (?3=',' OR instr(?3, ','||state||',')>0)"
      " AND (map_index, id) > (?4, ?5) ORDER BY map_index, id LIMIT ?6 OFFSET ?7";
  Stmt st(*impl_, sql);
  st.bind(run_id).bind(task_id).bind(state_list(states)).bind(after.map_index).bind(after.id);
  st.bind(limit > 0 ? limit : int64_t{-1}).bind(offset);
  std::vector<InstanceRecord> out;
  while (st.step())
    out.push_back(read_instance(st));
  return out;
}

std::vector<InstanceRecord> Store::in_flight_instances(const std::string& run_id) {
  static const std::string sql =
      std::string("SELECT ") + kInstanceColumns +
      " FROM instances WHERE run_id=? AND state IN ('starting','running','submitting','pending')"
      " ORDER BY rowid";
  Stmt st(*impl_, sql);
  st.bind(run_id);
  std::vector<InstanceRecord> out;
  while (st.step()) {
    auto r = read_instance(st);
    if (is_in_flight(r.state)) out.push_back(std::move(r));
  }
  return out;
}

std::optional<TryRecord> Store::latest_try(const std::string& run_id,
                                           const std::string& instance_id) {
  static const std::string sql =
      std::string(kTryColumns) + "WHERE run_id=? AND instance_id=? ORDER BY try DESC LIMIT 1";
  Stmt st(*impl_, sql.c_str());
  st.bind(run_id).bind(instance_id);
  auto tries = read_tries(st);
  if (tries.empty()) return std::nullopt;
  return std::move(tries.front());
}

size_t Store::longest_instance_id(const std::string& run_id) {
  Stmt st(*impl_, "SELECT max(length(id)) FROM instances WHERE run_id=?");
  st.bind(run_id);
  return st.step() ? static_cast<size_t>(st.i64(0)) : 0;
}

// ---- artifacts ------------------------------------------------------------------------------

namespace {
constexpr const char* kArtifactColumns =
    "id, run_id, instance_id, task_id, try, dag, dag_hash, params_json, site, host, name, "
    "description, format, encoding_format, path, sha256, size, started_ms, created_ms, "
    "derived_from_json, metadata_json, origin_json, kind";

ArtifactRecord read_artifact(const Stmt& st) {
  ArtifactRecord a;
  a.id = st.text(0);
  a.run_id = st.text(1);
  a.instance_id = st.text(2);
  a.task_id = st.text(3);
  a.try_number = st.i32(4);
  a.dag = st.text(5);
  a.dag_hash = st.text(6);
  a.params = st.json(7, nlohmann::json::object());
  a.site = st.text(8);
  a.host = st.text(9);
  a.name = st.text(10);
  a.description = st.text(11);
  a.format = st.text(12);
  a.encoding_format = st.text(13);
  a.path = st.text(14);
  a.sha256 = st.text(15);
  a.size = st.i64(16);
  a.started = st.i64(17);
  a.created = st.i64(18);
  for (const auto& id : st.json(19, nlohmann::json::array())) {
    if (id.is_string()) a.derived_from.push_back(id.get<std::string>());
  }
  a.metadata = st.json(20, nlohmann::json::object());
  a.origin = st.json(21, nlohmann::json::object());
  a.kind = st.text(22);
  return a;
}

std::vector<ArtifactRecord> read_artifacts(Stmt& st) {
  std::vector<ArtifactRecord> out;
  while (st.step())
    out.push_back(read_artifact(st));
  return out;
}
}  // namespace

void Store::put_artifact(const ArtifactRecord& a) {
  // Ids are derived from the run, instance, try and path, so writing the same registration
  // again (an engine that re-applies a finished try after a crash) replaces it.
  static const std::string sql = std::string("INSERT OR REPLACE INTO artifacts(") +
                                 kArtifactColumns +
                                 ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  Stmt st(*impl_, sql);
  st.bind(a.id).bind(a.run_id).bind(a.instance_id).bind(a.task_id).bind(a.try_number);
  st.bind(a.dag).bind(a.dag_hash).bind(a.params.dump()).bind(a.site).bind(a.host).bind(a.name);
  st.bind(a.description).bind(a.format).bind(a.encoding_format).bind(a.path).bind(a.sha256);
  st.bind(a.size).bind(a.started).bind(a.created).bind(nlohmann::json(a.derived_from).dump());
  st.bind(a.metadata.dump()).bind(a.origin.dump()).bind(a.kind).run();
}

std::optional<ArtifactRecord> Store::get_artifact(const std::string& id) {
  static const std::string sql =
      std::string("SELECT ") + kArtifactColumns + " FROM artifacts WHERE id=?";
  Stmt st(*impl_, sql);
  st.bind(id);
  if (!st.step()) return std::nullopt;
  return read_artifact(st);
}

std::vector<ArtifactRecord> Store::list_artifacts(const std::string& run_id) {
  static const std::string all = std::string("SELECT ") + kArtifactColumns +
                                 " FROM artifacts ORDER BY created_ms DESC, rowid DESC";
  static const std::string by_run =
      std::string("SELECT ") + kArtifactColumns +
      " FROM artifacts WHERE run_id=? ORDER BY created_ms DESC, rowid DESC";
  Stmt st(*impl_, run_id.empty() ? all : by_run);
  if (!run_id.empty()) st.bind(run_id);
  return read_artifacts(st);
}

std::vector<ArtifactRecord> Store::search_artifacts(const ArtifactQuery& q) {
  const SqlFilter f = artifact_query_sql(q);
  Stmt st(*impl_, std::string("SELECT ") + kArtifactColumns + " FROM artifacts" + f.where +
                      " ORDER BY created_ms DESC, rowid DESC" + f.limit);
  for (const auto& p : f.params) {
    if (const auto* text = std::get_if<std::string>(&p)) {
      st.bind(*text);
    } else if (const auto* number = std::get_if<double>(&p)) {
      st.bind(*number);
    } else if (const auto* count = std::get_if<long long>(&p)) {
      st.bind(static_cast<int64_t>(*count));
    } else {
      st.bind_null();
    }
  }
  return read_artifacts(st);
}

std::vector<std::string> Store::artifact_ids() {
  Stmt st(*impl_, "SELECT id FROM artifacts ORDER BY created_ms DESC, rowid DESC");
  std::vector<std::string> out;
  while (st.step())
    out.push_back(st.text(0));
  return out;
}

}  // namespace flow::state
