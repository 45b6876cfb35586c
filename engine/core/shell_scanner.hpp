#pragma once
// Where a substituted value lands in a shell command line, so it can be quoted for that
// place. `shell_quote()` is right between words, but a template may sit inside quotes the
// author wrote: `echo "{{ x }}"` with x = `$(rm -rf ~)` must not run anything, and
// `'{{ x }}'` must not end the author's quotes. The scanner reads the command's literal text
// the way a POSIX shell tokenises it (quotes, backslashes, $(...), comments and
// here-documents) and quotes each value for the context it is in:
//
//   between words, inside $(...)     shell_quote(value): one single-quoted word
//   inside '...'                     ' becomes '\'' (close, escaped quote, reopen)
//   inside "..."                     \ " $ ` get a backslash
//   here-document body (<<EOF)       \ $ ` get a backslash; with a quoted delimiter
//                                    (<<'EOF') the value goes in as it is
//   comment                          newlines become spaces (a newline would end it)
//
// Refused, with std::invalid_argument: values inside `...` (backslashes there are processed
// twice, so no quoting is reliable: use $(...)), right after a backslash or a `$` (either
// would change the value's first character), in a here-document's delimiter word (`<<WORD`:
// its quotes may span lines and would pair with the value's), and a substituted value that
// produces a line equal to a here-document's delimiter (it would end the document early;
// feed() throws).
//
// Usage: feed() the literal text before a value, quote() the value, feed_value() what was
// inserted, and so on.

#include <string>
#include <string_view>
#include <vector>

namespace flow {

class ShellScanner {
 public:
  enum class Context { kWord, kSingle, kDouble, kBacktick, kHeredoc, kLiteralHeredoc, kComment };

  // Literal text written by the DAG's author.
  void feed(std::string_view text) { scan(text, false); }
  // Text that came from a substituted value (quoted by quote(), or raw).
  void feed_value(std::string_view text) { scan(text, true); }

  Context context() const;
  // `value` quoted so that the shell reads exactly its characters at the current place.
  std::string quote(std::string_view value) const;

 private:
  struct Frame {
    Context ctx;
    bool subst = false;  // kWord opened by $( ... ), closed by )
    int depth = 0;       // open plain ( ) inside this frame
  };
  struct PendingHeredoc {
    std::string delimiter;
    bool strip_tabs = false;
    bool literal = false;
  };

  void scan(std::string_view text, bool from_value);
  void scan_char(char c, bool from_value);
  void end_of_line();
  void read_heredoc_operator(char c);

  std::vector<Frame> stack_{{Context::kWord}};
  bool escaped_ = false;  // the previous character was an unquoted/double-quoted backslash
  char prev_ = '\n';      // previous character (start of text counts as a line start)
  bool dollar_ = false;   // previous character was an unescaped $ (for $( ))
  std::string line_;      // current line so far (here-document bodies)
  bool line_has_value_ = false;
  // Here-documents announced on the current line; their bodies start at the next newline.
  std::vector<PendingHeredoc> pending_;
  std::vector<PendingHeredoc> bodies_;  // bodies being read (front first)
  // Parsing `<<[-]WORD`: 0 = idle, 1 = saw one '<', 2 = in the operator, reading the word.
  int heredoc_state_ = 0;
  PendingHeredoc reading_;
  char word_quote_ = 0;
  bool word_started_ = false;
};

}  // namespace flow
