#include "engine/dag/template.hpp"

#include <cctype>
#include <stdexcept>

#include "engine/core/shell.hpp"
#include "engine/core/shell_scanner.hpp"

namespace flow::dag {

std::string TemplateRef::dotted() const {
  std::string s;
  for (const auto& p : path) {
    if (!s.empty()) s += ".";
    s += p;
  }
  return s;
}

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return std::string(s.substr(b, e - b));
}

bool valid_name_part(const std::string& p) {
  if (p.empty()) return false;
  for (char c : p) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

TemplateRef parse_ref(std::string_view inner) {
  TemplateRef ref;
  ref.text = "{{" + std::string(inner) + "}}";
  std::string expr = trim(inner);
  if (auto bar = expr.find('|'); bar != std::string::npos) {
    std::string filter = trim(std::string_view(expr).substr(bar + 1));
    if (filter != "raw") {
      throw std::invalid_argument("unknown filter '" + filter + "' in " + ref.text +
                                  " (the only filter is 'raw')");
    }
    ref.raw = true;
    expr = trim(std::string_view(expr).substr(0, bar));
  }
  if (expr.empty()) throw std::invalid_argument("empty template reference " + ref.text);
  size_t start = 0;
  while (true) {
    size_t dot = expr.find('.', start);
    std::string part =
        expr.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!valid_name_part(part)) {
      throw std::invalid_argument("invalid name '" + expr + "' in " + ref.text +
                                  " (names are dotted words like params.epochs)");
    }
    ref.path.push_back(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return ref;
}

}  // namespace

Template Template::parse(std::string_view text) {
  Template t;
  size_t pos = 0;
  std::string literal;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      literal += text.substr(pos);
      break;
    }
    literal += text.substr(pos, open - pos);
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw std::invalid_argument("unterminated '{{' (missing '}}')");
    }
    if (!literal.empty()) {
      t.segments_.push_back(Segment{std::move(literal), {}});
      literal.clear();
    }
    Segment s;
    s.ref.emplace(parse_ref(text.substr(open + 2, close - open - 2)));
    t.segments_.push_back(std::move(s));
    pos = close + 2;
  }
  if (!literal.empty()) t.segments_.push_back(Segment{std::move(literal), {}});
  return t;
}

std::vector<TemplateRef> Template::refs() const {
  std::vector<TemplateRef> out;
  for (const auto& s : segments_) {
    if (s.is_ref()) out.push_back(*s.ref);
  }
  return out;
}

bool Template::has_refs() const {
  for (const auto& s : segments_) {
    if (s.is_ref()) return true;
  }
  return false;
}

const TemplateRef* Template::sole_ref() const {
  const TemplateRef* found = nullptr;
  for (const auto& s : segments_) {
    if (s.is_ref()) {
      if (found) return nullptr;
      found = &*s.ref;
    } else if (!trim(s.literal).empty()) {
      return nullptr;
    }
  }
  return found;
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string render(const Template& t, const Resolver& resolve, bool shell) {
  std::string out;
  ShellScanner scanner;
  const TemplateRef* last = nullptr;  // the value a here-document error is about
  for (const auto& s : t.segments()) {
    if (!s.is_ref()) {
      out += s.literal;
      if (shell) {
        try {
          scanner.feed(s.literal);
        } catch (const std::invalid_argument& e) {
          throw std::runtime_error("cannot fill " + (last ? last->text : std::string("a value")) +
                                   ": " + e.what());
        }
      }
      continue;
    }
    std::string v = value_text(resolve(*s.ref));
    if (shell) {
      try {
        if (!s.ref->raw) v = scanner.quote(v);
        scanner.feed_value(v);
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error("cannot fill " + s.ref->text + ": " + e.what());
      }
      last = &*s.ref;
    }
    out += v;
  }
  return out;
}

std::string check_shell_placement(const Template& t) {
  ShellScanner scanner;
  for (const auto& s : t.segments()) {
    try {
      // A value is taken to be a plain word ("x"), raw or quoted, as render() would put
      // it: raw text counts for where later values are.
      if (!s.is_ref()) {
        scanner.feed(s.literal);
      } else {
        scanner.feed_value(s.ref->raw ? std::string("x") : scanner.quote("x"));
      }
    } catch (const std::invalid_argument& e) {
      return (s.is_ref() ? s.ref->text + ": " : std::string()) + e.what();
    }
  }
  return "";
}

}  // namespace flow::dag
