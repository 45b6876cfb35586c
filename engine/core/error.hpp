#pragma once
// Errors that reach the user. Every failure the CLI reports is a flow::Error: it carries
// the kind (which decides the exit code), where the problem is (file:line:col, a task, or a
// site) and a message that says what is wrong and what to do. Library code throws these;
// engine/cli catches them at the boundary and prints them, never a bare exception text.

#include <stdexcept>
#include <string>
#include <vector>

namespace flow {

// Exit codes of the CLI (docs/REFERENCE.md §2.2).
enum class ErrorKind {
  kFailure = 1,       // a run or command completed with failures
  kInvalidInput = 2,  // usage, YAML, validation
  kEnvironment = 3,   // site unreachable, DB locked, disk full, host key refused
  kInterrupted = 130,
};

// A place in a source file. line and col are 1-based; 0 means "unknown".
struct SourceLocation {
  std::string file;
  int line = 0;
  int col = 0;

  // "file:line:col", "file:line", "file" or "" depending on what is known.
  std::string str() const;
};

// One problem found while loading or validating input.
struct Diagnostic {
  SourceLocation where;
  std::string message;

  // "file:line:col: message", or just the message when the location is unknown.
  std::string str() const;
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message);
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return static_cast<int>(kind_); }

 private:
  ErrorKind kind_;
};

// Invalid input with one or more located diagnostics (what `flow validate` prints).
class InputError : public Error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  InputError(SourceLocation where, const std::string& message);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Something outside flow's control: a site, the database, the disk.
class EnvironmentError : public Error {
 public:
  explicit EnvironmentError(const std::string& message) : Error(ErrorKind::kEnvironment, message) {}
};

}  // namespace flow
