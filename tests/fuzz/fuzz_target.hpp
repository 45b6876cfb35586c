#pragma once
// What every fuzz target here checks (docs/FUZZING.md). Given ANY bytes, the code under
// test returns, or throws one of the errors the CLI reports to users: a flow::Error
// (InputError with file:line:col, EnvironmentError, ...). Anything else is a bug and stops
// the fuzzer with the input saved: a crash, a sanitizer report (ASan, UBSan), a hang or
// runaway memory (libFuzzer's -timeout / -rss_limit_mb), an exception of any other type
// (the CLI would print it as an "internal error"), or a broken invariant a target checks.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

#include "engine/core/error.hpp"

namespace flow::fuzz {

inline std::string_view bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Stops the fuzzer: `what` is printed, then abort() makes libFuzzer save the input.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

// Runs `f`; a flow::Error is an accepted outcome, any other exception is a bug.
template <class F>
void expect_flow_errors_only(const char* step, F&& f) {
  try {
    f();
  } catch (const flow::Error&) {
  } catch (const std::exception& e) {
    fail(std::string(step) + ": unexpected " + typeid(e).name() + ": " + e.what());
  }
}

// The input split at the first line that is exactly `marker`: {before, after}; after is
// empty (and `found` false) when there is no such line.
struct Split {
  std::string_view before, after;
  bool found = false;
};
inline Split split_at_line(std::string_view text, std::string_view marker) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (line == marker) {
      std::string_view before = text.substr(0, pos == 0 ? 0 : pos - 1);
      std::string_view after =
          nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      return {before, after, true};
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return {text, {}, false};
}

}  // namespace flow::fuzz
