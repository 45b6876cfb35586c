#include "ui-tui/app.hpp"

#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "engine/core/error.hpp"
#include "ui-tui/action_runner.hpp"
#include "ui-tui/cells.hpp"
#include "ui-tui/help_view.hpp"
#include "ui-tui/runs_view.hpp"
#include "ui-tui/store_reader.hpp"
#include "ui-tui/terminal.hpp"
#include "ui-tui/view.hpp"

namespace flow::tui {

namespace {

using Clock = std::chrono::steady_clock;

// How long the loop waits for a key: the log view follows files at this rate and the
// clock and running durations are redrawn.
constexpr std::chrono::milliseconds kTick{250};
// The store is read at most this often (unless a key asks for it), and only when it
// changed; a slow read (a huge run) stretches the interval to 4x its duration.
constexpr std::chrono::milliseconds kReloadEvery{1000};

// The event loop and the view stack; what views ask for (Session) is done here.
class App : public Session {
 public:
  App(const Options& options, StoreReader& store, ActionRunner& actions, Terminal& terminal)
      : options_(options), store_(store), actions_(actions), term_(terminal) {}

  int run() {
    open(std::make_unique<RunsView>(options_.dag, options_.limit));
    while (!quit_ && !Terminal::interrupted()) {
      for (auto& done : actions_.reap()) {
        notify(done.summary(), done.exit_code == 0 ? Tone::kGood : Tone::kBad);
        force_reload_ = true;
      }
      maybe_reload();
      top().tick();
      draw();
      if (auto key = term_.read_key(kTick)) handle(*key);
    }
    return Terminal::interrupted() ? 130 : 0;
  }

  void open(std::unique_ptr<View> view) override {
    stack_.push_back(std::move(view));
    reload_top();
  }

  void ask(std::string question, std::function<void(Session&)> on_yes) override {
    mode_ = Mode::kConfirm;
    question_ = std::move(question);
    on_yes_ = std::move(on_yes);
  }

  void notify(std::string message, Tone tone) override {
    message_ = std::move(message);
    tone_ = tone;
  }

  void act(const ActionRequest& request) override {
    try {
      const ActionOutcome& started = actions_.start(request);
      notify(started.summary(), Tone::kBusy);
    } catch (const Error& e) {
      notify(e.what(), Tone::kBad);
    }
  }

 private:
  enum class Mode { kNormal, kFilter, kConfirm, kHelp };

  View& top() { return *stack_.back(); }

  void reload_top() {
    const auto t0 = Clock::now();
    store_.changed();  // what is read now is the baseline for the next change
    try {
      top().reload(store_);
    } catch (const Error& e) {
      notify(std::string("cannot read the database: ") + e.what(), Tone::kBad);
    }
    last_reload_ = t0;
    reload_cost_ = Clock::now() - t0;
    force_reload_ = false;
  }

  void maybe_reload() {
    const auto interval = std::max<Clock::duration>(kReloadEvery, 4 * reload_cost_);
    if (force_reload_ || (Clock::now() - last_reload_ >= interval && store_.changed())) {
      reload_top();
    }
  }

  void back() {
    if (stack_.size() > 1) {
      stack_.pop_back();
      force_reload_ = true;
    }
  }

  void draw() {
    term_.begin_frame();
    Canvas& c = term_.canvas();
    const bool utf8 = c.utf8();
    if (c.rows() < 4 || c.cols() < 20) {
      c.put(0, 0, "terminal too small");
      term_.show();
      return;
    }
    // Title bar: where we are on the left; actions, database and clock on the right.
    const Style bar{Tone::kNormal, true, true};
    c.fill(0, bar);
    std::string where = "flow tui";
    for (const auto& v : stack_)
      where += (where == "flow tui" ? "  " : " > ") + v->title();
    const EpochMs now = now_ms();
    std::string right = short_time(now, now);
    if (!actions_.running().empty())
      right = std::to_string(actions_.running().size()) + " action(s) running  " + right;
    right = options_.db.string() + "  " + right;
    const int right_w = cell_width(right, utf8);
    const int where_w = std::min(cell_width(where, utf8), c.cols());
    c.put(0, 0, fit(where, c.cols(), utf8), bar);
    if (where_w + 2 + right_w <= c.cols()) {
      c.put(0, c.cols() - right_w, right, bar);
    } else if (where_w + 10 <= c.cols()) {
      const std::string clock = short_time(now, now);
      c.put(0, c.cols() - cell_width(clock, utf8), clock, bar);
    }
    Region body(c, 1, c.rows() - 2);
    top().draw(body, now);
    draw_status(c, c.rows() - 1);
    if (mode_ == Mode::kHelp) draw_help(c);
    term_.show();
  }

  void draw_status(Canvas& c, int row) {
    switch (mode_) {
      case Mode::kFilter:
        c.put(row, 0, "/" + edit_ + "_   (Enter keeps the filter, Esc clears it)",
              Style{Tone::kAccent, true});
        return;
      case Mode::kConfirm:
        c.fill(row, Style{Tone::kBusy, true, true});
        c.put(row, 0, question_ + " [y/N]", Style{Tone::kBusy, true, true});
        return;
      default:
        break;
    }
    if (!message_.empty()) {
      c.put(row, 0, message_, Style{tone_, tone_ != Tone::kNormal});
    } else {
      c.put(row, 0, top().hints(), Style{Tone::kDim});
    }
  }

  void handle(const Key& key) {
    if (key.code == Key::kResize) return;  // the next frame has the new size
    switch (mode_) {
      case Mode::kHelp:
        mode_ = Mode::kNormal;
        return;
      case Mode::kConfirm: {
        mode_ = Mode::kNormal;
        auto on_yes = std::move(on_yes_);
        if (key.is('y') || key.is('Y')) {
          on_yes(*this);
        } else {
          notify("not done: " + question_, Tone::kNormal);
        }
        return;
      }
      case Mode::kFilter:
        edit_filter(key);
        return;
      case Mode::kNormal:
        break;
    }
    message_.clear();  // a message stays until the next key
    if (key.is('q')) {
      quit_ = true;
    } else if (key.is('?')) {
      mode_ = Mode::kHelp;
    } else if (key.is('/')) {
      if (top().filterable()) {
        mode_ = Mode::kFilter;
        edit_ = top().filter();
      }
    } else if (key.code == Key::kRedraw) {
      term_.repaint();
      force_reload_ = true;
    } else if (top().on_key(key, *this)) {
      if (top().take_reload_request()) force_reload_ = true;
    } else if (key.code == Key::kEscape) {
      if (!top().filter().empty()) {
        top().set_filter("");
      } else {
        back();
      }
    } else if (key.code == Key::kBackspace || key.code == Key::kLeft || key.is('h')) {
      back();
    }
  }

  void edit_filter(const Key& key) {
    if (key.code == Key::kEnter) {
      mode_ = Mode::kNormal;
    } else if (key.code == Key::kEscape) {
      mode_ = Mode::kNormal;
      edit_.clear();
      top().set_filter("");
    } else if (key.code == Key::kBackspace) {
      if (edit_.empty()) {
        mode_ = Mode::kNormal;
      } else {
        edit_.pop_back();  // keys are ASCII (Key::kChar is 0x20-0x7E)
        top().set_filter(edit_);
      }
    } else if (key.code == Key::kChar) {
      edit_ += static_cast<char>(key.ch);
      top().set_filter(edit_);
    }
  }

  const Options& options_;
  StoreReader& store_;
  ActionRunner& actions_;
  Terminal& term_;
  std::vector<std::unique_ptr<View>> stack_;
  Mode mode_ = Mode::kNormal;
  std::string edit_;
  std::string question_;
  std::function<void(Session&)> on_yes_;
  std::string message_;
  Tone tone_ = Tone::kNormal;
  Clock::time_point last_reload_{};
  Clock::duration reload_cost_{};
  bool force_reload_ = false;
  bool quit_ = false;
};

}  // namespace

int run_tui(const Options& options) {
  const bool out_tty = ::isatty(STDOUT_FILENO), in_tty = ::isatty(STDIN_FILENO);
  if (!out_tty || !in_tty) {
    throw Error(ErrorKind::kInvalidInput,
                std::string("flow tui needs a terminal, but its ") +
                    (!out_tty ? "stdout" : "stdin") +
                    " is not one. For plain text use: flow runs, flow status RUN_ID "
                    "(add --json for scripts)");
  }
  StoreReader store(options.db);
  std::filesystem::path binary = options.flow_binary;
  if (binary.empty()) {
    std::error_code ec;
    binary = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec)
      throw EnvironmentError("cannot find the flow executable (/proc/self/exe): " + ec.message());
  }
  ActionRunner actions(binary, std::filesystem::absolute(options.db), options.home / "tui");
  Terminal terminal;
  App app(options, store, actions, terminal);
  return app.run();
}

}  // namespace flow::tui
