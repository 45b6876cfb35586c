// `flow tui` end to end, in a real terminal (tmux): what is on the screen after keys, the
// actions it runs, and the terminal given back on q and on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <iterator>
#include <sstream>

#include "../engine/cli.hpp"
#include "tests/support/trial_script.hpp"
#include "tmux_session.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;
using flow::test::TmuxSession;
using nlohmann::json;

namespace {

// Runs `flow tui` in the project, then reports how it ended and whether the terminal
// settings are what they were before ("terminal restored"), and stays on screen.
void write_tui_script(const Project& p) {
  p.write("tui.sh", "cd '" + p.dir().string() + "'\nexport FLOW_HOME='" + p.home().string() +
                        "'\n"
                        "before=$(stty -g)\n"
                        "sh -c 'echo $$ > tui.pid; exec \"$0\" tui --db \"$1\"' '" FLOW_BINARY
                        "' '" +
                        p.db().string() +
                        "'\n"
                        "rc=$?\n"
                        "after=$(stty -g)\n"
                        "if [ \"$before\" = \"$after\" ]; then t=restored; else t=CHANGED; fi\n"
                        "echo \"TUI-EXIT rc=$rc terminal $t\"\n"
                        "exec sleep 600\n");
}

int tui_pid(const Project& p) {
  int pid = 0;
  eventually([&] {
    pid = std::atoi(flow::test::slurp(p.dir() / "tui.pid").c_str());
    return pid > 0;
  });
  return pid;
}

json status(const Project& p, const std::string& run) {
  return json::parse(p.flow("status " + run + " --json").out, nullptr, false);
}

std::string task_state(const Project& p, const std::string& run, const std::string& task) {
  auto s = status(p, run);
  if (!s.is_object()) return "";
  for (const auto& t : s["tasks"])
    if (t["id"] == task) return t["state"];
  return "";
}

}  // namespace

TEST(TuiTmux, RunsTasksAndALogThenQuitRestoresTheTerminal) {
  Project p;
  p.write("ok.yaml",
          "dag: ok\ntasks:\n  - id: hello\n    run: echo 'hello from the tui test'\n"
          "  - id: second\n    after: [hello]\n    run: echo second\n");
  ASSERT_EQ(p.flow("run ok.yaml --run-id ok1").code, 0);
  write_tui_script(p);
  TmuxSession tmux(p, "tui.sh");
  ASSERT_TRUE(tmux.started());
  // The runs list: the run's id and state on one line.
  ASSERT_TRUE(tmux.wait_for_line({"ok1", "succeeded"})) << tmux.screen();
  EXPECT_TRUE(tmux.wait_for_line({"RUN", "STATE"})) << tmux.screen();
  // Enter: its tasks with their states.
  tmux.keys("Enter");
  ASSERT_TRUE(tmux.wait_for_line({"TASK", "STATE", "TRY"})) << tmux.screen();
  EXPECT_TRUE(tmux.wait_for_line({"hello", "succeeded"})) << tmux.screen();
  EXPECT_TRUE(tmux.wait_for_line({"second", "succeeded"})) << tmux.screen();
  EXPECT_TRUE(tmux.wait_for("2/2 done")) << tmux.screen();
  // l on the first task (selected): its log.
  tmux.keys("l");
  ASSERT_TRUE(tmux.wait_for("hello from the tui test")) << tmux.screen();
  EXPECT_TRUE(tmux.wait_for_line({"hello", "try 1/1", "succeeded"})) << tmux.screen();
  // ? shows the keys; any key closes it; Esc goes back twice.
  tmux.keys("?");
  ASSERT_TRUE(tmux.wait_for("flow tui keys")) << tmux.screen();
  tmux.keys("x");
  ASSERT_TRUE(tmux.wait_for([](const std::string& s) {
    return s.find("flow tui keys") == std::string::npos;
  })) << tmux.screen();
  tmux.keys("Escape");
  ASSERT_TRUE(tmux.wait_for("2/2 done")) << tmux.screen();
  tmux.keys("Escape");
  ASSERT_TRUE(tmux.wait_for_line({"RUN", "DURATION"})) << tmux.screen();
  // q: the TUI exits 0 and the terminal is as it was (settings, and the normal screen).
  tmux.keys("q");
  ASSERT_TRUE(tmux.wait_for("TUI-EXIT")) << tmux.screen();
  const auto screen = tmux.screen();
  EXPECT_NE(screen.find("TUI-EXIT rc=0 terminal restored"), std::string::npos) << screen;
  EXPECT_EQ(screen.find("flow tui"), std::string::npos) << screen;
}

TEST(TuiTmux, LeaderboardOfAnHpoTaskShowsTheBestTrialFirst) {
  Project p;
  p.write("trial.py", R"(import json, os
p = json.loads(os.environ["FLOW_TRIAL_PARAMS"])
with open(os.environ["FLOW_METRICS_FILE"], "a") as m:
    for e in range(1, int(os.environ["FLOW_TRIAL_EPOCHS"]) + 1):
        m.write(json.dumps({"epoch": e, "loss": p["x"] + 1.0 / e}) + "\n")
open(os.environ["FLOW_CHECKPOINT_OUT"], "w").write("{}")
)");
  p.write("sweep.yaml", R"(dag: sweep
tasks:
  - id: prep
    run: echo prepared
  - id: tune
    after: [prep]
    hpo:
      algorithm: grid
      metric: loss
      mode: min
      max_epochs: 2
      parallel: 2
      space:
        x: {choice: [0.7, 0.2, 0.9, 0.5]}
    run: python3 trial.py
)");
  ASSERT_EQ(p.flow("run sweep.yaml --run-id hp1").code, 0);
  auto board = json::parse(p.flow("hpo hp1 tune --json").out);
  const std::string best = board["trials"][0]["id"];
  ASSERT_EQ(board["trials"][0]["params"]["x"], 0.2);
  write_tui_script(p);
  TmuxSession tmux(p, "tui.sh");
  ASSERT_TRUE(tmux.started());
  ASSERT_TRUE(tmux.wait_for_line({"hp1", "succeeded"})) << tmux.screen();
  tmux.keys("Enter");
  ASSERT_TRUE(tmux.wait_for_line({"tune (4 trials)"})) << tmux.screen();
  // Select the hpo task with the filter, then H.
  tmux.keys("/");
  tmux.keys("-l tune");
  tmux.keys("Enter");
  ASSERT_TRUE(tmux.wait_for([](const std::string& s) {
    return s.find("filter: tune") != std::string::npos &&
           TmuxSession::line_with(s, {"prep", "succeeded"}) == std::string::npos;
  })) << tmux.screen();
  tmux.keys("H");
  ASSERT_TRUE(tmux.wait_for_line({"TRIAL", "EPOCHS", "PARAMS"})) << tmux.screen();
  ASSERT_TRUE(tmux.wait_for_line({"best:", best, "x=0.2"})) << tmux.screen();
  const auto screen = tmux.screen();
  const size_t header = TmuxSession::line_with(screen, {"TRIAL", "EPOCHS"});
  ASSERT_NE(header, std::string::npos);
  const std::string first = TmuxSession::line(screen, header + 1);
  EXPECT_NE(first.find(best), std::string::npos) << screen;
  EXPECT_NE(first.find("0.7"), std::string::npos) << screen;  // 0.2 + 1/2 epochs
  EXPECT_NE(first.find("x=0.2"), std::string::npos) << screen;
  EXPECT_NE(TmuxSession::line(screen, header + 4).find("x=0.9"), std::string::npos) << screen;
  tmux.keys("q");
  EXPECT_TRUE(tmux.wait_for("TUI-EXIT rc=0 terminal restored")) << tmux.screen();
}

namespace {

// The cells of a learning curve as printed by the TUI (ui-tui/sparkline.hpp): the level of
// each glyph (▁..█: 0..7, or _.-^: 0..3 without UTF-8), -1 for a rung mark, -2 for a blank.
std::vector<int> curve_cells(const std::string& text, size_t cells) {
  static const std::vector<std::string> blocks = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  static const std::string ascii = "_.-^";
  std::vector<int> out;
  size_t at = 0;
  while (out.size() < cells && at < text.size()) {
    int level = -3;  // anything else
    size_t len = 1;
    for (size_t k = 0; k < blocks.size(); ++k) {
      if (text.compare(at, blocks[k].size(), blocks[k]) == 0) {
        level = static_cast<int>(k);
        len = blocks[k].size();
      }
    }
    if (text.compare(at, 3, "┆") == 0) {
      level = -1;
      len = 3;
    } else if (level == -3 && text[at] == '|') {
      level = -1;
    } else if (level == -3 && text[at] == ' ') {
      level = -2;
    } else if (level == -3 && ascii.find(text[at]) != std::string::npos) {
      level = static_cast<int>(ascii.find(text[at]));
    }
    out.push_back(level);
    at += len;
  }
  return out;
}

}  // namespace

TEST(TuiTmux, LeaderboardOfAnAshaSweepDrawsALearningCurvePerTrial) {
  Project p;
  // Rungs at 1, 2 and 4 epochs; each trial's loss x + 1/epoch falls every epoch.
  p.write("sweep.yaml", R"(dag: sweep
tasks:
  - id: tune
    hpo:
      algorithm: asha
      metric: loss
      samples: 4
      max_epochs: 4
      grace_epochs: 1
      reduction_factor: 2
      parallel: 2
      space:
        x: {uniform: [0.0, 1.0]}
    run: |
)" + flow::test::checkpointed_trial_run());
  ASSERT_EQ(p.flow("run sweep.yaml --run-id as1").code, 0);
  auto board = json::parse(p.flow("hpo as1 tune --json").out);
  ASSERT_EQ(board["trials"].size(), 4u);
  ASSERT_EQ(board["trials"][0]["epochs"], 4) << board.dump();  // the best went all the way
  write_tui_script(p);
  TmuxSession tmux(p, "tui.sh");
  ASSERT_TRUE(tmux.started());
  ASSERT_TRUE(tmux.wait_for_line({"as1", "succeeded"})) << tmux.screen();
  tmux.keys("Enter");
  ASSERT_TRUE(tmux.wait_for_line({"tune (4 trials)"})) << tmux.screen();
  tmux.keys("H");
  ASSERT_TRUE(tmux.wait_for_line({"TRIAL", "CURVE", "EPOCHS", "RUNG"})) << tmux.screen();
  ASSERT_TRUE(tmux.wait_for_line({"curve: loss by epoch 1-4", "rung"})) << tmux.screen();
  const auto screen = tmux.screen();
  const size_t header = TmuxSession::line_with(screen, {"TRIAL", "CURVE"});
  const size_t column = TmuxSession::line(screen, header).find("CURVE");
  // 4 epochs and a rung mark after epochs 1 and 2: 6 cells per curve, in trial order.
  for (size_t k = 0; k < 4; ++k) {
    const std::string row = TmuxSession::line(screen, header + 1 + k);
    const std::string id = board["trials"][k]["id"];
    ASSERT_NE(row.find(id), std::string::npos) << screen;
    const auto cells = curve_cells(row.substr(column), 6);
    ASSERT_EQ(cells.size(), 6u) << row;
    // Every trial trained the first rung: a glyph, then the rung's mark.
    EXPECT_GE(cells[0], 0) << row;
    EXPECT_EQ(cells[1], -1) << row;
    EXPECT_EQ(cells[3], -1) << row;
    const int epochs = board["trials"][k]["epochs"];
    const std::vector<size_t> epoch_cell = {0, 2, 4, 5};
    for (int e = 1; e <= 4; ++e) {
      const int level = cells[epoch_cell[static_cast<size_t>(e - 1)]];
      if (e <= epochs) {
        EXPECT_GE(level, 0) << id << " epoch " << e << ": " << row;
      } else {
        EXPECT_EQ(level, -2) << id << " epoch " << e << " was not trained: " << row;
      }
    }
  }
  // The best trial's loss fell all the way: its glyphs step down.
  const auto best = curve_cells(TmuxSession::line(screen, header + 1).substr(column), 6);
  EXPECT_GE(best[0], best[2]) << screen;
  EXPECT_GE(best[2], best[4]) << screen;
  EXPECT_GE(best[4], best[5]) << screen;
  EXPECT_GT(best[0], best[5]) << screen;
  // p: the best trial's curve drawn large under the table, with its axes.
  tmux.keys("p");
  const std::string best_id = board["trials"][0]["id"];
  ASSERT_TRUE(tmux.wait_for_line({best_id, "after 4 epochs, min is best", "(p hides)"}))
      << tmux.screen();
  const auto pane = tmux.screen();
  const size_t title = TmuxSession::line_with(pane, {"(p hides)"});
  const std::string top_row = TmuxSession::line(pane, title + 1);  // the top of the y axis
  EXPECT_TRUE(top_row.find("┤") != std::string::npos || top_row.find('|') != std::string::npos)
      << pane;
  // Under the x axis: epochs 1, 2 (a rung) and 4.
  bool labelled = false;
  for (size_t i = title + 1; !labelled && i < title + 30; ++i) {
    std::istringstream words(TmuxSession::line(pane, i));
    std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
    labelled = w == std::vector<std::string>{"1", "2", "4"};
  }
  EXPECT_TRUE(labelled) << pane;
  tmux.keys("q");
  EXPECT_TRUE(tmux.wait_for("TUI-EXIT rc=0 terminal restored")) << tmux.screen();
}

TEST(TuiTmux, RetryAFailedTaskAfterConfirmingRunsItAgain) {
  Project p;
  // Fails the first time (leaves a marker), succeeds after.
  p.write("flaky.yaml",
          "dag: flaky\ntasks:\n"
          "  - id: flaky\n"
          "    run: if [ -e marker ]; then echo recovered; else touch marker; echo first-failure;"
          " exit 1; fi\n"
          "  - id: after\n    after: [flaky]\n    run: echo downstream\n");
  ASSERT_EQ(p.flow("run flaky.yaml --run-id fl1").code, 1);
  ASSERT_EQ(task_state(p, "fl1", "flaky"), "failed");
  write_tui_script(p);
  TmuxSession tmux(p, "tui.sh");
  ASSERT_TRUE(tmux.started());
  ASSERT_TRUE(tmux.wait_for_line({"fl1", "failed"})) << tmux.screen();
  tmux.keys("Enter");
  ASSERT_TRUE(tmux.wait_for_line({"flaky", "failed"})) << tmux.screen();
  EXPECT_TRUE(tmux.wait_for_line({"after", "upstream_failed"})) << tmux.screen();
  // r asks first; anything but y leaves the run alone.
  tmux.keys("r");
  ASSERT_TRUE(tmux.wait_for("Retry task 'flaky' in run fl1? [y/N]")) << tmux.screen();
  tmux.keys("n");
  ASSERT_TRUE(tmux.wait_for("not done")) << tmux.screen();
  tmux.keys("r");
  ASSERT_TRUE(tmux.wait_for("Retry task 'flaky' in run fl1? [y/N]")) << tmux.screen();
  tmux.keys("y");
  // `flow retry` runs as a child. Without --downstream only the task runs again: it
  // succeeds, `after` stays upstream_failed and so the run stays failed (exit 1).
  ASSERT_TRUE(tmux.wait_for("retry flaky (run fl1): ended with failures (exit 1)"))
      << tmux.screen();
  EXPECT_TRUE(tmux.wait_for_line({"flaky", "succeeded", "2"})) << tmux.screen();
  EXPECT_TRUE(tmux.wait_for_line({"after", "upstream_failed"})) << tmux.screen();
  EXPECT_EQ(task_state(p, "fl1", "flaky"), "succeeded");
  EXPECT_EQ(task_state(p, "fl1", "after"), "upstream_failed");
  // R: the task and everything downstream of it; then the run succeeds.
  tmux.keys("R");
  ASSERT_TRUE(tmux.wait_for("Retry task 'flaky' and everything downstream in run fl1? [y/N]"))
      << tmux.screen();
  tmux.keys("y");
  ASSERT_TRUE(tmux.wait_for("retry flaky and downstream (run fl1): done")) << tmux.screen();
  ASSERT_TRUE(tmux.wait_for_line({"after", "succeeded"})) << tmux.screen();
  ASSERT_TRUE(tmux.wait_for_line({"fl1", "succeeded", "dag flaky"})) << tmux.screen();
  EXPECT_EQ(task_state(p, "fl1", "flaky"), "succeeded");
  EXPECT_EQ(task_state(p, "fl1", "after"), "succeeded");
  // The log shown is the latest try's (3); [ goes back to older tries.
  tmux.keys("l");
  ASSERT_TRUE(tmux.wait_for_line({"flaky", "try 3/3"})) << tmux.screen();
  EXPECT_TRUE(tmux.wait_for("recovered")) << tmux.screen();
  tmux.keys("[");
  ASSERT_TRUE(tmux.wait_for_line({"flaky", "try 2/3"})) << tmux.screen();
  tmux.keys("[");
  ASSERT_TRUE(tmux.wait_for_line({"flaky", "try 1/3"})) << tmux.screen();
  EXPECT_TRUE(tmux.wait_for("first-failure")) << tmux.screen();
  tmux.keys("q");
  EXPECT_TRUE(tmux.wait_for("TUI-EXIT rc=0 terminal restored")) << tmux.screen();
}

TEST(TuiTmux, CancelARunningRun) {
  Project p;
  p.write("slow.yaml", "dag: slow\ntasks:\n  - id: nap\n    run: sleep 600\n");
  Background run(p, "run slow.yaml --run-id slow1");
  ASSERT_TRUE(eventually([&] { return task_state(p, "slow1", "nap") == "running"; })) << run.err();
  write_tui_script(p);
  TmuxSession tmux(p, "tui.sh");
  ASSERT_TRUE(tmux.started());
  ASSERT_TRUE(tmux.wait_for_line({"slow1", "running", "1 run"})) << tmux.screen();
  tmux.keys("c");
  ASSERT_TRUE(tmux.wait_for("Cancel run slow1")) << tmux.screen();
  tmux.keys("y");
  ASSERT_TRUE(tmux.wait_for_line({"slow1", "cancelled"})) << tmux.screen();
  EXPECT_EQ(run.wait(), 1);  // a cancelled run exits 1
  EXPECT_EQ(task_state(p, "slow1", "nap"), "cancelled");
  EXPECT_TRUE(tmux.wait_for("cancel (run slow1): done")) << tmux.screen();
  tmux.keys("q");
  EXPECT_TRUE(tmux.wait_for("TUI-EXIT rc=0 terminal restored")) << tmux.screen();
}

TEST(TuiTmux, SigtermRestoresTheTerminalAndExits130) {
  Project p;
  p.write("ok.yaml", "dag: ok\ntasks:\n  - id: a\n    run: 'true'\n");
  ASSERT_EQ(p.flow("run ok.yaml --run-id t1").code, 0);
  write_tui_script(p);
  TmuxSession tmux(p, "tui.sh");
  ASSERT_TRUE(tmux.started());
  ASSERT_TRUE(tmux.wait_for_line({"t1", "succeeded"})) << tmux.screen();
  tmux.keys("Enter");  // somewhere deeper than the first screen
  ASSERT_TRUE(tmux.wait_for("1/1 done")) << tmux.screen();
  const int pid = tui_pid(p);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  ASSERT_TRUE(tmux.wait_for("TUI-EXIT")) << tmux.screen();
  const auto screen = tmux.screen();
  EXPECT_NE(screen.find("TUI-EXIT rc=130 terminal restored"), std::string::npos) << screen;
  EXPECT_EQ(screen.find("1/1 done"), std::string::npos) << screen;  // off the alternate screen
}

TEST(TuiCli, WithoutATerminalItExits2AndPointsAtFlowStatus) {
  Project p;
  p.write("ok.yaml", "dag: ok\ntasks:\n  - id: a\n    run: 'true'\n");
  ASSERT_EQ(p.flow("run ok.yaml").code, 0);
  auto r = p.flow("tui");  // stdout is a file
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("needs a terminal"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("flow status"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  r = p.flow("tui --json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("flow status RUN_ID --json"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(TuiTmux, AMissingDatabaseIsReportedBeforeTheScreenIsTaken) {
  Project p;  // no run yet: no database
  write_tui_script(p);
  TmuxSession tmux(p, "tui.sh");
  ASSERT_TRUE(tmux.started());
  ASSERT_TRUE(tmux.wait_for("TUI-EXIT")) << tmux.screen();
  const auto screen = tmux.screen();
  EXPECT_NE(screen.find("TUI-EXIT rc=3 terminal restored"), std::string::npos) << screen;
  EXPECT_NE(screen.find("no flow database at " + p.db().string()), std::string::npos) << screen;
  EXPECT_FALSE(std::filesystem::exists(p.db()));
}
