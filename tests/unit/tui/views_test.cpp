// Views drawn into a text canvas of a 80x24 terminal (22 rows between the title and the
// status line) and driven by keys, without a terminal.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "engine/state/trial_segment.hpp"
#include "tests/support/temp_dir.hpp"
#include "text_canvas.hpp"
#include "ui-tui/help_view.hpp"
#include "ui-tui/leaderboard_view.hpp"
#include "ui-tui/log_view.hpp"
#include "ui-tui/runs_view.hpp"
#include "ui-tui/task_view.hpp"

using namespace flow;
using namespace flow::tui;
using state::TaskState;
using test::TextCanvas;

namespace {

struct FakeSession : Session {
  std::vector<std::unique_ptr<View>> opened;
  std::string question;
  std::function<void(Session&)> on_yes;
  std::vector<std::string> notes;
  std::vector<ActionRequest> actions;

  void open(std::unique_ptr<View> v) override { opened.push_back(std::move(v)); }
  void ask(std::string q, std::function<void(Session&)> yes) override {
    question = std::move(q);
    on_yes = std::move(yes);
  }
  void notify(std::string m, Tone) override { notes.push_back(std::move(m)); }
  void act(const ActionRequest& r) override { actions.push_back(r); }
};

constexpr EpochMs kT0 = 1'700'000'000'000;

state::RunRecord run_record(const std::string& id, state::RunState st, EpochMs created) {
  state::RunRecord r;
  r.id = id;
  r.dag = "pipeline";
  r.state = st;
  r.dag_yaml =
      "dag: pipeline\ntasks:\n  - id: prep\n    run: 'true'\n  - id: tiles\n    foreach: [1]\n"
      "    run: 'true'\n  - id: tune\n    hpo:\n      metric: loss\n      space:\n"
      "        x: {uniform: [0, 1]}\n    run: 'true'\n";
  r.dag_hash = "h";
  r.run_dir = "/tmp/x";
  r.created = r.started = created;
  r.ended = st == state::RunState::kRunning ? 0 : created + 65'000;
  return r;
}

void put(state::Store& s, const std::string& run, const std::string& id, TaskState st,
         const std::string& parent = "", const std::string& message = "") {
  state::InstanceRecord i;
  i.run_id = run;
  i.id = id;
  i.task_id = parent.empty() ? id : parent;
  i.parent = parent;
  i.state = st;
  i.site = "local";
  i.try_number = 1;
  i.started = kT0;
  i.ended = kT0 + 3200;
  i.message = message;
  if (parent == "tune") i.attrs["trial"] = {{"status", "completed"}};
  s.put_instance(i);
}

class TuiViews : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = state::Store::open(dir_ / "flow.db");
    s->insert_run(run_record("pipeline-20250101T000000-aaaa", state::RunState::kSucceeded, kT0));
    s->insert_run(run_record("pipeline-20250102T000000-bbbb", state::RunState::kFailed, kT0 + 1));
    const std::string r = "pipeline-20250102T000000-bbbb";
    put(*s, r, "prep", TaskState::kSucceeded);
    put(*s, r, "tiles", TaskState::kFailed, "", "1 of 14 instances failed: tiles[4]");
    for (int k = 0; k < 14; ++k)
      put(*s, r, "tiles[" + std::to_string(k) + "]",
          k == 4 ? TaskState::kFailed : TaskState::kSucceeded, "tiles",
          k == 4 ? "exit code 1" : "");
    put(*s, r, "tune", TaskState::kSucceeded);
    for (int k = 0; k < 3; ++k)
      put(*s, r, "tune[trial-" + std::to_string(k) + "]", TaskState::kSucceeded, "tune");
    reader_ = std::make_unique<StoreReader>(dir_ / "flow.db");
  }

  test::TempDir dir_;
  std::unique_ptr<StoreReader> reader_;
  TextCanvas canvas_{22, 80};
};

}  // namespace

TEST_F(TuiViews, RunsListFitsEightyColumnsNewestFirst) {
  RunsView v("", 0);
  v.reload(*reader_);
  v.draw(canvas_, kT0 + 100'000);
  const std::string text = canvas_.text();
  EXPECT_NE(canvas_.line(0).find("RUN"), std::string::npos);
  EXPECT_NE(canvas_.line(0).find("STATE"), std::string::npos);
  // Whole ids, the newest first, with their states coloured.
  EXPECT_NE(canvas_.line(1).find("pipeline-20250102T000000-bbbb"), std::string::npos) << text;
  EXPECT_NE(canvas_.line(1).find("failed"), std::string::npos) << text;
  EXPECT_EQ(canvas_.tone_of(1, "failed"), Tone::kBad);
  EXPECT_NE(canvas_.line(2).find("pipeline-20250101T000000-aaaa"), std::string::npos) << text;
  EXPECT_EQ(canvas_.tone_of(2, "succeeded"), Tone::kGood);
  EXPECT_NE(canvas_.line(1).find("1m05s"), std::string::npos) << text;
  EXPECT_NE(canvas_.line(1).find("18 ok 2 failed"), std::string::npos) << text;

  FakeSession s;
  EXPECT_TRUE(v.on_key(Key::of(Key::kEnter), s));
  ASSERT_EQ(s.opened.size(), 1u);
  EXPECT_EQ(s.opened[0]->title(), "run pipeline-20250102T000000-bbbb");
  // c on a failed run asks first; y starts `flow cancel`.
  EXPECT_TRUE(v.on_key(Key::of('c'), s));
  EXPECT_NE(s.question.find("Cancel run pipeline-20250102T000000-bbbb"), std::string::npos);
  s.on_yes(s);
  ASSERT_EQ(s.actions.size(), 1u);
  EXPECT_EQ(s.actions[0].kind, ActionRequest::Kind::kCancel);
  // A succeeded run has nothing to cancel.
  v.on_key(Key::of('j'), s);
  v.on_key(Key::of('c'), s);
  EXPECT_NE(s.notes.back().find("already succeeded"), std::string::npos);
  // The filter keeps the selection on what matches.
  v.set_filter("aaaa");
  ASSERT_TRUE(v.selected());
  EXPECT_EQ(v.selected()->id, "pipeline-20250101T000000-aaaa");
}

TEST_F(TuiViews, TaskGridGroupsItemsAndTrialsAndShowsProgress) {
  TaskView v("pipeline-20250102T000000-bbbb");
  v.reload(*reader_);
  v.draw(canvas_, kT0 + 100'000);
  const std::string text = canvas_.text();
  EXPECT_NE(canvas_.line(0).find("failed"), std::string::npos) << text;
  EXPECT_NE(canvas_.line(1).find("20/20 done"), std::string::npos) << text;
  EXPECT_NE(canvas_.line(2).find("TASK"), std::string::npos) << text;
  EXPECT_NE(canvas_.line(2).find("DURATION"), std::string::npos) << text;
  EXPECT_NE(canvas_.line(3).find("prep"), std::string::npos) << text;
  EXPECT_NE(canvas_.line(3).find("3.2s"), std::string::npos) << text;
  // 14 items: collapsed; 3 trials: expanded.
  EXPECT_NE(canvas_.line(4).find("+ tiles (14 items)"), std::string::npos) << text;
  EXPECT_EQ(canvas_.tone_of(4, "failed"), Tone::kBad);
  EXPECT_NE(canvas_.line(5).find("- tune (3 trials)"), std::string::npos) << text;
  EXPECT_NE(canvas_.line(6).find("tune[trial-0]"), std::string::npos) << text;
  EXPECT_NE(canvas_.line(6).find("trial completed"), std::string::npos) << text;

  FakeSession s;
  v.on_key(Key::of('j'), s);  // tiles
  v.on_key(Key::of(Key::kEnter), s);
  EXPECT_TRUE(s.opened.empty());  // Enter on a group toggles it
  TextCanvas after(22, 80);
  v.draw(after, kT0 + 100'000);
  EXPECT_NE(after.line(4).find("- tiles (14 items)"), std::string::npos) << after.text();
  EXPECT_NE(after.line(9).find("tiles[4]"), std::string::npos) << after.text();
  EXPECT_NE(after.line(9).find("exit code 1"), std::string::npos) << after.text();
  // H on a task that is not an hpo one says which are.
  v.on_key(Key::of('H'), s);
  EXPECT_NE(s.notes.back().find("hpo tasks: tune"), std::string::npos) << s.notes.back();
  // Retry from an item retries its task.
  for (int i = 0; i < 5; ++i)
    v.on_key(Key::of(Key::kDown), s);
  ASSERT_TRUE(v.selected());
  EXPECT_EQ(v.selected()->id, "tiles[4]");
  v.on_key(Key::of('R'), s);
  EXPECT_NE(s.question.find("Retry task 'tiles' and everything downstream"), std::string::npos)
      << s.question;
  s.on_yes(s);
  ASSERT_EQ(s.actions.size(), 1u);
  EXPECT_EQ(s.actions[0].kind, ActionRequest::Kind::kRetryDownstream);
  EXPECT_EQ(s.actions[0].task_id, "tiles");
  // Left on an item collapses its group and selects the head.
  EXPECT_TRUE(v.on_key(Key::of(Key::kLeft), s));
  EXPECT_EQ(v.selected()->id, "tiles");
  EXPECT_FALSE(v.on_key(Key::of(Key::kLeft), s));  // nothing left to collapse: back
  // Enter on an instance opens its log; H on a trial opens the leaderboard.
  v.on_key(Key::of('G'), s);
  EXPECT_EQ(v.selected()->id, "tune[trial-2]");
  v.on_key(Key::of('H'), s);
  v.on_key(Key::of(Key::kEnter), s);
  ASSERT_EQ(s.opened.size(), 2u);
  EXPECT_EQ(s.opened[0]->title(), "hpo tune");
  EXPECT_EQ(s.opened[1]->title(), "log tune[trial-2]");
}

// Issue 13: an HPO trial's try column (and its log's header) says which segment it is on
// and which try of that segment, not the instance's try count; other rows keep the number.
TEST_F(TuiViews, TrialRowsShowTheirSegmentAndItsTryApartFromTheTryCount) {
  const std::string r = "pipeline-20250102T000000-bbbb";
  {
    auto s = state::Store::open(dir_ / "flow.db");
    auto retried = *s->get_instance(r, "tune[trial-1]");  // segment 2, retried once
    retried.try_number = 4;
    state::set_segment_try(retried, {2, 2}, 4);
    s->put_instance(retried);
    auto promoted = *s->get_instance(r, "tune[trial-2]");  // segment 3, its first try
    promoted.try_number = 3;
    state::set_segment_try(promoted, {3, 1}, 3);
    s->put_instance(promoted);
    state::TryRecord t;
    t.run_id = r;
    t.instance_id = "tune[trial-1]";
    t.try_number = 4;
    t.state = TaskState::kSucceeded;
    t.site = "local";
    t.segment = 2;
    t.segment_try = 2;
    s->put_try(t);
  }
  TaskView v(r);
  v.reload(*reader_);
  TextCanvas wide(22, 120);
  v.draw(wide, kT0 + 100'000);
  auto row_of = [&](const std::string& id) {
    for (int y = 0; y < 22; ++y)
      if (wide.line(y).find(id + " ") != std::string::npos) return wide.line(y);
    return std::string();
  };
  EXPECT_NE(row_of("tune[trial-1]").find("segment 2, try 2"), std::string::npos) << wide.text();
  EXPECT_NE(row_of("tune[trial-2]").find("segment 3 "), std::string::npos) << wide.text();
  EXPECT_EQ(row_of("tune[trial-2]").find("try"), std::string::npos) << wide.text();
  EXPECT_EQ(row_of("tune[trial-0]").find("segment"), std::string::npos)
      << "recorded before segments were kept: its try number" << wide.text();
  EXPECT_EQ(row_of("  prep").find("segment"), std::string::npos) << wide.text();

  LogView log(r, "tune[trial-1]");
  log.reload(*reader_);
  TextCanvas head(22, 120);
  log.draw(head, kT0 + 100'000);
  EXPECT_NE(head.line(0).find("try 4/4 (segment 2, try 2)"), std::string::npos) << head.text();
}

TEST_F(TuiViews, LogViewFollowsTheEndAndExplainsAMissingLog) {
  auto w = state::Store::open(dir_ / "flow.db");
  const std::string r = "pipeline-20250102T000000-bbbb";
  state::TryRecord t;
  t.run_id = r;
  t.instance_id = "prep";
  t.try_number = 1;
  t.state = TaskState::kSucceeded;
  t.site = "local";
  t.log_path = (dir_ / "prep.log").string();
  w->put_try(t);
  {
    std::ofstream log(dir_ / "prep.log");
    for (int i = 1; i <= 100; ++i)
      log << "line " << i << "\n";
  }
  LogView v(r, "prep");
  v.reload(*reader_);
  v.draw(canvas_, kT0);
  EXPECT_NE(canvas_.line(0).find("prep  try 1/1  succeeded"), std::string::npos) << canvas_.text();
  EXPECT_NE(canvas_.line(21).find("line 100"), std::string::npos) << canvas_.text();
  EXPECT_NE(canvas_.line(1).find("line 80"), std::string::npos) << canvas_.text();
  FakeSession s;
  v.on_key(Key::of('g'), s);
  TextCanvas top(22, 80);
  v.draw(top, kT0);
  EXPECT_NE(top.line(1).find("line 1"), std::string::npos) << top.text();
  EXPECT_FALSE(v.following());
  v.set_filter("line 5");
  v.on_key(Key::of('G'), s);
  TextCanvas filtered(22, 80);
  v.draw(filtered, kT0);
  EXPECT_NE(filtered.line(1).find("line 5"), std::string::npos) << filtered.text();
  EXPECT_NE(filtered.line(2).find("line 50"), std::string::npos) << filtered.text();

  LogView missing(r, "tiles[4]");  // has no try record
  missing.reload(*reader_);
  TextCanvas m(22, 80);
  missing.draw(m, kT0);
  EXPECT_NE(m.text().find("tiles[4] never ran (failed)"), std::string::npos) << m.text();
}

TEST_F(TuiViews, LeaderboardOfATaskThatIsNotHpoSaysSo) {
  LeaderboardView v("pipeline-20250102T000000-bbbb", "prep");
  v.reload(*reader_);
  v.draw(canvas_, kT0);
  EXPECT_NE(canvas_.text().find("'prep' is not an hpo task; hpo tasks: tune"), std::string::npos)
      << canvas_.text();
}

TEST(TuiHelpView, EveryKeyFitsOnAnEightyByTwentyFourScreen) {
  TextCanvas c(24, 80);
  draw_help(c);
  const std::string text = c.text();
  for (const char* k : {"Enter", "Esc Backspace h", "PgUp PgDn", "/", "r ", "R ", "c ", "l ", "H ",
                        "p ", "? q", "quit"})
    EXPECT_NE(text.find(k), std::string::npos) << k << "\n" << text;
  EXPECT_EQ(text.find('~'), std::string::npos) << "nothing cut:\n" << text;
}

TEST(TuiViewHints, FitAnEightyColumnStatusLineAndPointAtTheHelp) {
  RunsView runs("", 0);
  TaskView tasks("r");
  LeaderboardView board("r", "tune");
  LogView log("r", "prep");
  for (const View* v : std::initializer_list<const View*>{&runs, &tasks, &board, &log}) {
    EXPECT_LE(v->hints().size(), 80u) << v->title() << ": " << v->hints();
    EXPECT_NE(v->hints().find("? help"), std::string::npos) << v->title() << ": " << v->hints();
  }
}

namespace {

// An ASHA sweep (rungs 1 3 9) of three trials whose per-epoch losses are in the metrics
// table: trial-0 fell 9 -> 1 over 9 epochs, trial-1 was stopped at the first rung, trial-2
// reported NaN at epoch 2 and then stopped at rung 3.
class TuiLeaderboardCurves : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = state::Store::open(dir_ / "flow.db");
    state::RunRecord r = run_record(kRun, state::RunState::kSucceeded, kT0);
    r.dag_yaml =
        "dag: pipeline\ntasks:\n  - id: tune\n    hpo:\n      algorithm: asha\n"
        "      metric: loss\n      mode: min\n      max_epochs: 9\n      grace_epochs: 1\n"
        "      reduction_factor: 3\n      space:\n        x: {uniform: [0, 1]}\n"
        "    run: 'true'\n";
    s->insert_run(r);
    put(*s, kRun, "tune", TaskState::kSucceeded);
    trial(*s, 0, "completed", {9, 8, 7, 6, 5, 4, 3, 2, 1}, 2);
    trial(*s, 1, "stopped", {9}, 0);
    trial(*s, 2, "stopped", {8, NAN, 6}, 1);
    reader_ = std::make_unique<StoreReader>(dir_ / "flow.db");
  }

  // Trial `k` with `loss` at epochs 1, 2, ... in the metrics table and its segments'
  // results (at the rungs it reached) in its history.
  void trial(state::Store& s, int k, const std::string& status, const std::vector<double>& loss,
             int rung) {
    const std::string id = "tune[trial-" + std::to_string(k) + "]";
    put(s, kRun, id, TaskState::kSucceeded, "tune");
    auto inst = *s.get_instance(kRun, id);
    auto history = nlohmann::json::array();
    for (int at : {1, 3, 9})
      if (at <= static_cast<int>(loss.size()))
        history.push_back({at, std::isnan(loss[static_cast<size_t>(at - 1)])
                                   ? nlohmann::json()
                                   : nlohmann::json(loss[static_cast<size_t>(at - 1)])});
    inst.attrs["trial"] = {
        {"index", k},   {"status", status},           {"epochs", static_cast<int>(loss.size())},
        {"rung", rung}, {"params", {{"x", 0.1 * k}}}, {"history", history}};
    s.put_instance(inst);
    for (size_t e = 0; e < loss.size(); ++e) {
      nlohmann::json line = {{"epoch", e + 1}};
      line["loss"] = std::isnan(loss[e]) ? nlohmann::json() : nlohmann::json(loss[e]);
      s.add_metric(kRun, {id, 1, static_cast<int>(e), kT0, line});
    }
  }

  // The table row (below the header on row 2) that shows `trial`.
  static std::string row_of(const TextCanvas& c, const std::string& trial) {
    for (int r = 3; r < c.rows(); ++r)
      if (c.line(r).find(trial + " ") != std::string::npos) return c.line(r);
    return "";
  }

  const std::string kRun = "pipeline-20250103T000000-cccc";
  test::TempDir dir_;
  std::unique_ptr<StoreReader> reader_;
};

}  // namespace

TEST_F(TuiLeaderboardCurves, EachTrialHasItsCurveOnOneScaleWithTheRungs) {
  LeaderboardView v(kRun, "tune");
  v.reload(*reader_);
  TextCanvas c(22, 80);
  v.draw(c, kT0);
  const std::string text = c.text();
  EXPECT_NE(c.line(2).find("CURVE"), std::string::npos) << text;
  EXPECT_NE(c.line(2).find("RUNG"), std::string::npos) << text;
  EXPECT_EQ(c.line(2).find("GEN"), std::string::npos) << "PBT's columns: " << text;
  // Per epoch, from the metrics table; the falling loss steps down, rungs after 1 and 3.
  EXPECT_NE(row_of(c, "trial-0").find(" ^|^-|--..__ "), std::string::npos) << text;
  // Stopped at the first rung: its curve ends there.
  EXPECT_NE(row_of(c, "trial-1").find(" ^|  |       "), std::string::npos) << text;
  // The NaN at epoch 2 is marked, not drawn as a value.
  EXPECT_NE(row_of(c, "trial-2").find(" ^|x-|       "), std::string::npos) << text;
  // The bottom line says how to read them.
  EXPECT_EQ(
      c.line(21).rfind("curve: loss by epoch 1-9, _ 1 to ^ 9 in all rows, min is best; | rung", 0),
      0u)
      << text;
  EXPECT_EQ(c.line(21).find('~'), std::string::npos) << "not cut: " << text;
}

TEST_F(TuiLeaderboardCurves, ANarrowTerminalKeepsTheCurveWithoutTheRungs) {
  LeaderboardView v(kRun, "tune");
  v.reload(*reader_);
  TextCanvas c(22, 60);
  v.draw(c, kT0);
  const std::string text = c.text();
  EXPECT_EQ(c.line(2).find("RUNG"), std::string::npos) << text;
  EXPECT_NE(row_of(c, "trial-0").find(" ^^---..__ "), std::string::npos) << text;
  EXPECT_NE(c.line(21).find("curve: loss by epoch 1-9"), std::string::npos) << text;
  EXPECT_EQ(c.line(21).find("rung"), std::string::npos) << text;
}

TEST_F(TuiLeaderboardCurves, CurvesHoldEveryEpochOfTheMetricsTableNotOnlyTheRungs) {
  LeaderboardView v(kRun, "tune");
  v.reload(*reader_);
  ASSERT_NE(v.selected(), nullptr);
  EXPECT_EQ(v.selected()->trial, "trial-0");  // best first
  ASSERT_EQ(v.selected()->curve.size(), 9u);
  EXPECT_DOUBLE_EQ(v.selected()->curve.back().value, 1);
}

TEST_F(TuiLeaderboardCurves, PShowsTheSelectedTrialsCurveLargeAndHidesItAgain) {
  LeaderboardView v(kRun, "tune");
  v.reload(*reader_);
  FakeSession s;
  ASSERT_TRUE(v.on_key(Key::of('p'), s));
  EXPECT_TRUE(v.plot_shown());
  TextCanvas c(22, 80);
  v.draw(c, kT0);
  std::string text = c.text();
  // The rows the table does not need (15): a title, 12 rows of plot, the x axis and its
  // labels; the table (header and 3 trials) and its legend line above.
  EXPECT_EQ(c.line(7).rfind("trial-0 completed: loss 1 after 9 epochs, min is best  (p hides)", 0),
            0u)
      << text;
  EXPECT_EQ(c.line(8).rfind(" 9|^", 0), 0u) << text;  // epoch 1 at the top
  EXPECT_EQ(c.line(19).rfind(" 1|", 0), 0u) << text;
  EXPECT_EQ(c.line(19).back(), ' ') << text;
  EXPECT_NE(c.line(19).find("________"), std::string::npos) << "epoch 9 at the bottom: " << text;
  EXPECT_EQ(c.line(20).rfind("  +-------+", 0), 0u) << "rung 1 after 8 cells: " << text;
  EXPECT_EQ(c.line(21).rfind("   1", 0), 0u) << text;
  EXPECT_NE(c.line(6).find("curve: loss by epoch 1-9"), std::string::npos) << text;
  EXPECT_NE(c.line(3).find("trial-0"), std::string::npos) << text;

  // The pane follows the selection: trial-2 reported NaN at epoch 2 and stopped at 3.
  v.on_key(Key::of('j'), s);
  TextCanvas second(22, 80);
  v.draw(second, kT0);
  text = second.text();
  EXPECT_EQ(second.line(7).rfind("trial-2 stopped: loss 6 after 3 epochs", 0), 0u) << text;
  EXPECT_NE(second.line(19).find("xxxxxxxx"), std::string::npos) << text;

  // p again: the table has the whole screen back.
  v.on_key(Key::of('p'), s);
  TextCanvas hidden(22, 80);
  v.draw(hidden, kT0);
  text = hidden.text();
  EXPECT_EQ(text.find("(p hides)"), std::string::npos) << text;
  EXPECT_NE(hidden.line(21).find("curve: loss by epoch 1-9"), std::string::npos) << text;
}
