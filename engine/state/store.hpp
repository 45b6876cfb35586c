#pragma once
// The state database: one SQLite file in WAL mode. Every state change of runs, task
// instances and tries is a row here, committed before the engine acts on it, so a killed
// engine resumes from exactly what it had promised. Several processes may use one file at
// once (flow run ×2, flow status, the TUI): writers take BEGIN IMMEDIATE and wait up to
// the busy timeout.
//
// Durability: synchronous=NORMAL in WAL mode: a commit survives the engine being killed at
// any point; only an OS crash or power loss can lose the commits since the last checkpoint
// (sqlite.org/wal; see set_manual_checkpoints()).
//
// Errors: a locked database past the timeout or a full disk is an EnvironmentError (exit
// 3) whose message names the file and what to do; a failed write rolls back the whole
// transaction, so the database is never left half-updated.
//
// Schema: engine/state/migrations.hpp. Opening migrates an older database; one newer than
// this flow knows is refused (EnvironmentError naming the file and both versions).
//
// Readers (flow status, the TUI) read a screenful inside one ReadSnapshot and poll
// data_version() to learn whether another connection committed since.
//
// SQLite stays behind this class: no caller sees a connection or a statement.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/state/artifact_query.hpp"
#include "engine/state/delivery_record.hpp"
#include "engine/state/records.hpp"

namespace flow::state {

class Store {
 public:
  // Opens (creating the file and its directory if needed) and migrates the schema.
  static std::unique_ptr<Store> open(
      const std::filesystem::path& path,
      std::chrono::milliseconds busy_timeout = std::chrono::seconds(30));
  // What a connection may do. kQueryOnly refuses every write (SQLite's query_only), for
  // readers that must never change the database, like the TUI.
  enum class Access { kReadWrite, kQueryOnly };
  // Opens an existing database (migrating it like open()); EnvironmentError if there is
  // none, so a typo in --db never leaves an empty database behind.
  static std::unique_ptr<Store> open_existing(const std::filesystem::path& path,
                                              Access access = Access::kReadWrite);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::filesystem::path& path() const;
  int schema_version();
  // The version this flow creates and migrates to.
  static int latest_schema_version();

  // A number that changes whenever another connection commits to the database (SQLite's
  // PRAGMA data_version; this connection's own commits do not change it). Comparing it
  // with the last value tells a reader whether to read again.
  int64_t data_version();

  // SQLite's own consistency check of the whole file: "ok", or what is damaged.
  std::string integrity_check();

  // A write transaction (BEGIN IMMEDIATE). Rolls back unless commit() is called. Opened
  // while another is open on this Store, it is a savepoint inside that one: its commit
  // makes its writes part of the outer transaction, its rollback undoes only them.
  class Transaction {
   public:
    explicit Transaction(Store& store);
    ~Transaction();
    void commit();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

   private:
    Store& store_;
    bool nested_;
    bool done_ = false;
  };

  // A read transaction (BEGIN DEFERRED, pinned at construction): every read while it lives
  // sees the database as it was when it was made, however many commits other connections
  // make meanwhile, and it blocks none of them (WAL). Keep it short: a checkpoint cannot
  // pass a snapshot that is still open. Made inside another ReadSnapshot or inside a
  // Transaction it is part of that one. A Transaction cannot be opened inside it.
  class ReadSnapshot {
   public:
    explicit ReadSnapshot(Store& store);
    ~ReadSnapshot();
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

   private:
    Store& store_;
    bool counted_;  // false inside a Transaction: nothing to end
  };

  // Writes (call inside a Transaction for atomicity; alone each is its own transaction).
  void insert_run(const RunRecord& r);
  void update_run(const RunRecord& r);
  void put_instance(const InstanceRecord& r);  // insert or replace, in run r.run_id
  // The same, in run `run_id` (r.run_id is not read).
  void put_instance(const std::string& run_id, const InstanceRecord& r);
  void delete_instance(const std::string& run_id, const std::string& instance_id);
  void put_try(const TryRecord& t);  // insert or replace
  void add_event(const EventRecord& e);
  void add_metric(const std::string& run_id, const MetricRecord& m);  // ignores duplicates
  void set_cancel_requested(const std::string& run_id, bool requested = true);
  // The token of the engine that owns the run (engine/run/ownership.hpp); nullopt if there
  // is no such run. Read inside the owner's transactions to fence a displaced owner.
  std::optional<std::string> owner_token(const std::string& run_id);
  void put_artifact(const ArtifactRecord& a);  // insert, or replace the same id

  // WAL checkpoints. By default SQLite checkpoints (copying the WAL into the database and
  // fsyncing both) inside whichever commit takes the WAL past 1000 pages. With manual
  // checkpoints on, it does not; the run controller then calls checkpoint() itself, after
  // launching what a tick picked (or from its once-a-second poll), so no fsync sits
  // between committing an intent and acting on it. wal_pages() is the size of the WAL
  // written since the last checkpoint(). checkpoint() is PASSIVE: it never waits for
  // other connections (a busy database just means it happens later).
  void set_manual_checkpoints(bool on);
  int wal_pages() const;
  void checkpoint();

  // Reads.
  std::optional<RunRecord> get_run(const std::string& run_id);
  // The same row without its DAG text (dag_yaml ""): for what reads a run again and again
  // (the engine's once-a-second control poll, the TUI's refreshes) and never the DAG, which
  // for a file of 1,000,000 tasks is 32 MB read and copied each time.
  std::optional<RunRecord> get_run_without_dag(const std::string& run_id);
  // Newest first; each without its DAG text (dag_yaml ""): get_run reads that.
  std::vector<RunRecord> list_runs(const std::string& dag, int limit);
  // Runs of `dag` in `state`, oldest first.
  std::vector<RunRecord> runs_in_state(const std::string& dag, RunState state);
  // Runs of `dag` whose data interval starts at `data_interval_start` (as stored), oldest
  // first: the scheduler and `flow backfill` check these before starting an interval.
  std::vector<RunRecord> runs_for_interval(const std::string& dag,
                                           const std::string& data_interval_start);

  // Scheduler state, one row per DAG the scheduler has seen (engine/schedule). Callers
  // read, decide and write inside one Transaction, so two schedulers on one database never
  // start the same interval.
  std::optional<ScheduleRecord> get_schedule(const std::string& dag);
  void put_schedule(const ScheduleRecord& s);  // insert or replace
  std::vector<InstanceRecord> instances(const std::string& run_id);
  // The same, handed to `each` one at a time as they are read (an engine resuming a run of
  // 1,000,000 instances does not hold them twice). `each` must not use this Store.
  void for_each_instance(const std::string& run_id,
                         const std::function<void(InstanceRecord)>& each);
  std::optional<InstanceRecord> get_instance(const std::string& run_id, const std::string& id);
  std::vector<TryRecord> tries(const std::string& run_id, const std::string& instance_id);
  // Every try of a run in one query, ordered by instance id then try (`flow report`).
  std::vector<TryRecord> run_tries(const std::string& run_id);
  std::vector<EventRecord> events(const std::string& run_id, int64_t after_seq = 0);
  std::vector<MetricRecord> metrics(const std::string& run_id, const std::string& instance_id);
  std::map<std::string, int> state_counts(const std::string& run_id);

  // A run of any size, a page at a time (flow status; the reader never holds every
  // instance). How many instances each task has in each state, its own instance included,
  // tasks in the order the run created their first instance.
  struct TaskStateCount {
    std::string task_id;
    TaskState state = TaskState::kQueued;
    int64_t count = 0;
  };
  std::vector<TaskStateCount> task_state_counts(const std::string& run_id);
  // A task's instances in reading order (its own first, map_index -1, then its foreach
  // items or trials by index), only those in `states` (empty: any), those after `after`
  // (the last row of the page before; the default: from the first), skipping `offset`,
  // at most `limit` (0: no limit). Read through the index by task: a page costs its own
  // rows, wherever in a run of a million it lies.
  struct InstanceKey {
    int map_index = -2;  // before every instance
    std::string id;
  };
  std::vector<InstanceRecord> task_instances(const std::string& run_id, const std::string& task_id,
                                             const std::vector<TaskState>& states,
                                             const InstanceKey& after, int64_t offset,
                                             int64_t limit);
  // The instances in flight (state::is_in_flight): at most what -j and max_jobs allow.
  std::vector<InstanceRecord> in_flight_instances(const std::string& run_id);
  // An instance's try with the highest number, if it has one.
  std::optional<TryRecord> latest_try(const std::string& run_id, const std::string& instance_id);
  // The length of the longest instance id of the run (a table's column width).
  size_t longest_instance_id(const std::string& run_id);
  std::optional<ArtifactRecord> get_artifact(const std::string& id);
  // Newest first; all runs when `run_id` is empty.
  std::vector<ArtifactRecord> list_artifacts(const std::string& run_id = "");
  std::vector<std::string> artifact_ids();  // newest first
  // The artifacts every filter of `q` matches, newest first (artifact_query.hpp).
  std::vector<ArtifactRecord> search_artifacts(const ArtifactQuery& q);

  // Notifications of a run (docs/ALERTS.md; store_deliveries.cpp). add_delivery returns
  // the new row's id; update_delivery rewrites state, attempts, error and updated.
  int64_t add_delivery(const DeliveryRecord& d);
  void update_delivery(const DeliveryRecord& d);
  std::vector<DeliveryRecord> deliveries(const std::string& run_id);  // oldest first
  // Marks the run's `pending` deliveries with an id below `before_id` `abandoned` with
  // `why`; returns how many.
  int abandon_deliveries(const std::string& run_id, const std::string& why, EpochMs at,
                         int64_t before_id = INT64_MAX);

  struct Impl;  // the connection, its statements and transaction depth (store.cpp)

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  void migrate();

  std::unique_ptr<Impl> impl_;
};

}  // namespace flow::state
