#include "engine/core/shell_scanner.hpp"

#include <stdexcept>

#include "engine/core/shell.hpp"

namespace flow {

namespace {

bool is_word_break(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' ||
         c == ')' || c == '<' || c == '>';
}

std::string escape(std::string_view value, std::string_view special) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (special.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

ShellScanner::Context ShellScanner::context() const {
  return stack_.back().ctx;
}

std::string ShellScanner::quote(std::string_view value) const {
  const Context ctx = context();
  // In `<<WORD` the delimiter's own quotes are not on the stack (a quoted delimiter can
  // even span lines), so no quoting is reliable there; and a value has no business
  // deciding where a here-document ends.
  if (heredoc_state_ == 2)
    throw std::invalid_argument(
        "it is part of a here-document's delimiter (<<WORD); put the value in the "
        "document instead");
  if (escaped_ && ctx != Context::kSingle && ctx != Context::kLiteralHeredoc &&
      ctx != Context::kComment)
    throw std::invalid_argument(
        "it follows a backslash, which would escape the value's first character; remove the "
        "backslash");
  if (dollar_ && ctx != Context::kSingle && ctx != Context::kLiteralHeredoc &&
      ctx != Context::kComment)
    throw std::invalid_argument(
        "it follows a '$', so the shell would expand the value instead of reading it; put a "
        "space or quotes between them");
  switch (ctx) {
    case Context::kWord:
      return shell_quote(value);
    case Context::kSingle: {
      std::string out;
      for (char c : value)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      return out;
    }
    case Context::kDouble:
      return escape(value, "\\\"$`");
    case Context::kHeredoc:
      return escape(value, "\\$`");
    case Context::kLiteralHeredoc:
      return std::string(value);
    case Context::kComment: {
      std::string out(value);
      for (char& c : out)
        if (c == '\n') c = ' ';
      return out;
    }
    case Context::kBacktick:
      break;
  }
  throw std::invalid_argument(
      "it is inside `...`, where no quoting is reliable (backslashes are processed twice); "
      "write $(...) instead");
}

void ShellScanner::scan(std::string_view text, bool from_value) {
  for (char c : text)
    scan_char(c, from_value);
}

void ShellScanner::end_of_line() {
  // A newline outside quotes: the bodies of the here-documents announced on this line start.
  if (pending_.empty()) return;
  bodies_ = std::move(pending_);
  pending_.clear();
  stack_.push_back({bodies_.front().literal ? Context::kLiteralHeredoc : Context::kHeredoc});
  line_.clear();
  line_has_value_ = false;
}

void ShellScanner::read_heredoc_operator(char c) {
  // Called in heredoc_state_ 2 (after `<<`): optional '-', blanks, then the delimiter word.
  if (!word_started_ && word_quote_ == 0) {
    if (c == '<' && reading_.delimiter.empty() && !reading_.strip_tabs) {
      heredoc_state_ = 0;  // `<<<`: a here-string, not a here-document
      return;
    }
    if (c == '-' && !reading_.strip_tabs && reading_.delimiter.empty()) {
      reading_.strip_tabs = true;
      return;
    }
    if (c == ' ' || c == '\t') return;
  }
  if (word_quote_ != 0) {
    if (c == word_quote_) {
      word_quote_ = 0;
    } else {
      reading_.delimiter += c;
    }
    return;
  }
  if (is_word_break(c)) {
    heredoc_state_ = 0;
    if (word_started_) pending_.push_back(reading_);
    return;
  }
  word_started_ = true;
  if (c == '\'' || c == '"') {
    word_quote_ = c;
    reading_.literal = true;
  } else if (c == '\\') {
    reading_.literal = true;
  } else {
    reading_.delimiter += c;
  }
}

void ShellScanner::scan_char(char c, bool from_value) {
  // Here-document bodies are split into lines before anything is expanded: a line equal to
  // the delimiter ends the body whatever its context.
  if (!bodies_.empty()) {
    if (c == '\n') {
      const PendingHeredoc& body = bodies_.front();
      std::string_view line = line_;
      if (body.strip_tabs)
        while (!line.empty() && line.front() == '\t')
          line.remove_prefix(1);
      const bool ends = line == body.delimiter;
      // A value's newline that ends the line, or began it, makes the line the value's too
      // (an empty delimiter, `<<''`, is ended by an empty line a value opens and closes).
      const bool had_value = line_has_value_ || from_value;
      line_.clear();
      line_has_value_ = from_value;
      if (ends) {
        if (had_value)
          throw std::invalid_argument("a substituted value makes a line equal to '" +
                                      body.delimiter + "', which ends the here-document early");
        while (stack_.back().ctx != Context::kHeredoc &&
               stack_.back().ctx != Context::kLiteralHeredoc)
          stack_.pop_back();
        stack_.pop_back();
        bodies_.erase(bodies_.begin());
        if (!bodies_.empty())
          stack_.push_back(
              {bodies_.front().literal ? Context::kLiteralHeredoc : Context::kHeredoc});
        escaped_ = dollar_ = false;
        prev_ = '\n';
        return;
      }
    } else {
      line_ += c;
      line_has_value_ = line_has_value_ || from_value;
    }
  }

  Frame& top = stack_.back();
  const bool was_dollar = dollar_;
  dollar_ = false;
  const char prev = prev_;
  prev_ = c;

  if (top.ctx == Context::kSingle) {
    if (c == '\'') stack_.pop_back();
    return;
  }
  if (top.ctx == Context::kLiteralHeredoc) return;
  if (top.ctx == Context::kComment) {
    if (c == '\n') {
      stack_.pop_back();
      if (stack_.back().ctx == Context::kWord) end_of_line();
    }
    return;
  }
  if (escaped_) {
    escaped_ = false;
    return;
  }
  const bool wordish = top.ctx == Context::kWord || top.ctx == Context::kBacktick;
  if (wordish && heredoc_state_ == 2) {
    read_heredoc_operator(c);
    if (heredoc_state_ == 2) return;  // still reading the delimiter word
  } else if (wordish && heredoc_state_ == 1) {
    heredoc_state_ = 0;
    if (c == '<') {
      heredoc_state_ = 2;
      reading_ = {};
      word_quote_ = 0;
      word_started_ = false;
      return;
    }
  }

  switch (c) {
    case '\\':
      escaped_ = true;
      return;
    case '$':
      dollar_ = true;
      return;
    case '`':
      if (top.ctx == Context::kBacktick) {
        stack_.pop_back();
      } else {
        stack_.push_back({Context::kBacktick});
      }
      return;
    case '(':
      if (was_dollar) {
        stack_.push_back({Context::kWord, true});
      } else if (wordish) {
        ++top.depth;
      }
      return;
    default:
      break;
  }
  if (top.ctx == Context::kDouble) {
    if (c == '"') stack_.pop_back();
    return;
  }
  if (top.ctx == Context::kHeredoc) return;

  // kWord or kBacktick: the author's own quoting and structure.
  switch (c) {
    case '\'':
      stack_.push_back({Context::kSingle});
      break;
    case '"':
      stack_.push_back({Context::kDouble});
      break;
    case ')':
      if (top.depth > 0) {
        --top.depth;
      } else if (top.subst) {
        stack_.pop_back();
      }
      break;
    case '#':
      if (is_word_break(prev)) stack_.push_back({Context::kComment});
      break;
    case '<':
      heredoc_state_ = 1;
      break;
    case '\n':
      if (top.ctx == Context::kWord) end_of_line();
      break;
    default:
      break;
  }
}

}  // namespace flow
