#include "engine/core/yaml_reader.hpp"

#include <yaml.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <new>
#include <unordered_map>

#include "engine/core/suggest.hpp"

namespace flow::yaml {

bool is_valid_name(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 200) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Is `s` valid UTF-8 (RFC 3629: shortest forms only, no surrogates, at most U+10FFFF)?
// Values go into JSON (params, outputs, the run's record), which must be UTF-8.
bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

namespace {

// A position in the text, 0-based, as libyaml's marks and YAML::Mark.
struct Mark {
  int line = 0, col = 0;
};
using AnchorId = size_t;
constexpr AnchorId kNoAnchor = SIZE_MAX;

[[noreturn]] void fail(const Mark& m, const std::string& msg) {
  YAML::Mark mark;
  mark.line = m.line;
  mark.column = m.col;
  throw YAML::ParserException(mark, msg);
}

// Builds a Tree's items from the parser's events, keeping track of anchors and of how far
// aliases expand the document.
class Builder {
 public:
  using Kind = Tree::Kind;
  using Item = Tree::Item;
  static constexpr uint32_t kNone = Tree::kNone;

  explicit Builder(size_t text_size)
      : max_expansion_(kExtraExpansion + kExpansionFactor * static_cast<uint64_t>(text_size)) {}
  std::vector<Item> take() { return std::move(items_); }

  void null(const Mark& m, AnchorId anchor) {
    add(m, Kind::kNull, anchor);
    completed(1, anchor);
  }
  void alias(const Mark& m, AnchorId anchor) {
    const uint32_t target =
        anchor < anchors_.size() && anchors_[anchor] != kNone ? resolve(anchors_[anchor]) : kNone;
    // `&a [*a]`: a node that contains itself would make every walk of the tree endless.
    for (const Open& o : open_) {
      if (o.index == target)
        fail(m, "an alias inside the node its anchor names (a node cannot contain itself)");
    }
    // Every walk of the tree reads an alias as a copy of its target, so ten aliases of ten
    // aliases of ... ("billion laughs") would make a small file enormous.
    const uint64_t weight = anchor < weights_.size() ? weights_[anchor] : 1;
    expanded_ += weight;
    if (expanded_ > max_expansion_)
      fail(m, "aliases (*name) expand this file to far more than it holds (over " +
                  std::to_string(kExpansionFactor) +
                  " times its size); write the values out instead");
    uint32_t i = add(m, Kind::kAlias, kNoAnchor);
    items_[i].first = target;
    if (items_[i].first == kNone) items_[i].kind = Kind::kNull;
    completed(weight, kNoAnchor);
  }
  void scalar(const Mark& m, AnchorId anchor, bool quoted, std::string value) {
    if (!is_utf8(value)) fail(m, "this value is not valid UTF-8; save the file as UTF-8");
    uint32_t i = add(m, Kind::kScalar, anchor);
    items_[i].quoted = quoted;
    const uint64_t weight = 1 + value.size();
    items_[i].scalar = std::move(value);
    completed(weight, anchor);
  }
  void open(const Mark& m, Kind kind, AnchorId anchor) {
    open_.push_back({add(m, kind, anchor), kNone, 0, 1, anchor});
  }
  void close() {
    Open o = open_.back();
    open_.pop_back();
    Item& it = items_[o.index];
    it.size = it.kind == Kind::kMap ? o.children / 2 : o.children;
    completed(o.weight, o.anchor);
  }

 private:
  uint32_t resolve(uint32_t i) const {
    return items_[i].kind == Kind::kAlias ? items_[i].first : i;
  }
  uint32_t add(const Mark& m, Kind kind, AnchorId anchor) {
    auto i = static_cast<uint32_t>(items_.size());
    Item& it = items_.emplace_back();
    it.kind = kind;
    it.line = m.line;
    it.col = m.col;
    if (!open_.empty()) {
      Open& parent = open_.back();
      if (parent.last == kNone) {
        items_[parent.index].first = i;
      } else {
        items_[parent.last].next = i;
      }
      parent.last = i;
      parent.children++;
    }
    if (anchor != kNoAnchor) {
      if (anchors_.size() <= anchor) anchors_.resize(anchor + 1, kNone);
      anchors_[anchor] = i;
    }
    return i;
  }
  // A node is complete: `weight` is its size with aliases expanded (one per node plus the
  // bytes of its scalars); its parent's grows by as much.
  void completed(uint64_t weight, AnchorId anchor) {
    if (anchor != kNoAnchor) {
      if (weights_.size() <= anchor) weights_.resize(anchor + 1, 1);
      weights_[anchor] = weight;
    }
    if (!open_.empty()) open_.back().weight += weight;
  }

  struct Open {
    uint32_t index, last, children;
    uint64_t weight;  // of the node so far, aliases expanded (see completed())
    AnchorId anchor;
  };
  // What aliases may add to a document: a generous margin over its own size. A DAG that
  // shares `env:` or `slurm:` blocks through aliases stays far below it.
  static constexpr uint64_t kExtraExpansion = 1u << 20;
  static constexpr uint64_t kExpansionFactor = 16;
  std::vector<Item> items_;
  std::vector<Open> open_;
  std::vector<uint32_t> anchors_;  // anchor id -> item
  std::vector<uint64_t> weights_;  // anchor id -> weight of its node
  uint64_t expanded_ = 0;          // sum of the weights of all aliases so far
  uint64_t max_expansion_;
};

// Anchor names to ids, as yaml-cpp numbered them: each `&name` a new id, which later
// aliases `*name` refer to until the name is defined again.
class Anchors {
 public:
  AnchorId define(const yaml_char_t* name) {
    if (!name) return kNoAnchor;
    const AnchorId id = next_++;
    ids_[reinterpret_cast<const char*>(name)] = id;
    return id;
  }
  AnchorId find(const yaml_char_t* name, const Mark& m) const {
    auto it = ids_.find(reinterpret_cast<const char*>(name));
    if (it == ids_.end())
      fail(m, std::string("the alias *") + reinterpret_cast<const char*>(name) +
                  " names no anchor (&" + reinterpret_cast<const char*>(name) + ") before it");
    return it->second;
  }

 private:
  std::unordered_map<std::string, AnchorId> ids_;
  AnchorId next_ = 0;
};

Mark mark_of(const yaml_mark_t& m) {
  return {static_cast<int>(m.line), static_cast<int>(m.column)};
}

// The position of byte `offset` of `text` (libyaml reports a reader error, such as bytes
// that are not UTF-8, by offset).
Mark mark_at(const std::string& text, size_t offset) {
  Mark m;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++m.line;
      m.col = 0;
    } else {
      ++m.col;
    }
  }
  return m;
}

// The character at `m` (its first byte), or 0 past the end. libyaml counts columns in
// characters, so the line is walked a UTF-8 sequence at a time.
char char_at(const std::string& text, const yaml_mark_t& m) {
  size_t i = 0;
  for (size_t line = 0; line < m.line; ++line) {
    i = text.find('\n', i);
    if (i == std::string::npos) return 0;
    ++i;
  }
  for (size_t col = 0; col < m.column && i < text.size() && text[i] != '\n'; ++col) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xc0) == 0x80)
      ++i;
  }
  return i < text.size() ? text[i] : 0;
}

[[noreturn]] void fail_parser(const yaml_parser_t& p, const std::string& text) {
  if (p.error == YAML_MEMORY_ERROR) throw std::bad_alloc();
  if (p.error == YAML_READER_ERROR) {
    // Bytes that are not UTF-8 (or a control character): libyaml stops reading there.
    const std::string problem = p.problem ? p.problem : "cannot read the text";
    const bool encoding =
        problem.find("UTF-8") != std::string::npos || problem.find("Unicode") != std::string::npos;
    fail(mark_at(text, p.problem_offset),
         encoding ? "this value is not valid UTF-8; save the file as UTF-8 (" + problem + ")"
                  : problem);
  }
  std::string msg = p.problem ? p.problem : "cannot parse the text";
  if (char_at(text, p.problem_mark) == '\t') msg += " (a tab: indent YAML with spaces)";
  if (p.context) {
    msg += " (" + std::string(p.context) + " that starts at line " +
           std::to_string(p.context_mark.line + 1) + ", column " +
           std::to_string(p.context_mark.column + 1) + ")";
  }
  fail(mark_of(p.problem_mark), msg);
}

// yaml-cpp's null values: `~`, `null`, `Null`, `NULL` and nothing at all, when plain.
bool is_null_text(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// One parser, freed on every way out.
struct Parser {
  yaml_parser_t p;
  Parser() {
    if (!yaml_parser_initialize(&p)) throw std::bad_alloc();
  }
  ~Parser() { yaml_parser_delete(&p); }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
};
struct Event {
  yaml_event_t e{};
  ~Event() { yaml_event_delete(&e); }
};

}  // namespace

Tree::Tree(const std::string& text) {
  // libyaml's event parser (C, Debian's libyaml): the first document only, as
  // YAML::Parser::HandleNextDocument read it, with yaml-cpp's meaning of each event.
  Builder builder(text.size());
  Anchors anchors;
  Parser parser;
  yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  bool any = false;
  for (bool done = false; !done;) {
    Event ev;
    if (!yaml_parser_parse(&parser.p, &ev.e)) fail_parser(parser.p, text);
    const Mark m = mark_of(ev.e.start_mark);
    switch (ev.e.type) {
      case YAML_DOCUMENT_START_EVENT:
        any = true;
        break;
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      case YAML_ALIAS_EVENT:
        builder.alias(m, anchors.find(ev.e.data.alias.anchor, m));
        break;
      case YAML_SCALAR_EVENT: {
        const auto& sc = ev.e.data.scalar;
        const AnchorId anchor = anchors.define(sc.anchor);
        std::string value(reinterpret_cast<const char*>(sc.value), sc.length);
        const bool plain = sc.style == YAML_PLAIN_SCALAR_STYLE;
        const bool tagged = sc.tag != nullptr;
        // yaml-cpp's tags: "!" for a quoted or block scalar, or one written `! x`.
        const bool quoted =
            !plain || (tagged && std::string_view(reinterpret_cast<const char*>(sc.tag)) == "!");
        if (plain && !tagged && is_null_text(value)) {
          builder.null(m, anchor);
        } else {
          builder.scalar(m, anchor, quoted, std::move(value));
        }
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
        builder.open(m, Kind::kSequence, anchors.define(ev.e.data.sequence_start.anchor));
        break;
      case YAML_MAPPING_START_EVENT:
        builder.open(m, Kind::kMap, anchors.define(ev.e.data.mapping_start.anchor));
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        builder.close();
        break;
      default:  // stream start, no event
        break;
    }
  }
  items_ = builder.take();
  if (!any || items_.empty()) {
    items_.clear();
    items_.emplace_back();
  }
}

Tree parse(const std::string& text, const std::string& file) {
  try {
    return Tree(text);
  } catch (const YAML::Exception& e) {
    SourceLocation l{file, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                     e.mark.column >= 0 ? e.mark.column + 1 : 0};
    throw InputError(l, "invalid YAML: " + e.msg);
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      throw InputError(SourceLocation{path.string()}, "no such file");
    }
    throw EnvironmentError(path.string() + ": cannot read the file");
  }
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    text.append(buf, static_cast<size_t>(in.gcount()));
  if (in.bad()) throw EnvironmentError(path.string() + ": cannot read the file");
  return text;
}

std::vector<std::pair<Node, Node>> Node::pairs() const {
  std::vector<std::pair<Node, Node>> out;
  out.reserve(size());
  for (uint32_t k = IsMap() ? item().first : Tree::kNone; k != Tree::kNone;) {
    uint32_t v = tree_->at(k).next;
    if (v == Tree::kNone) break;
    out.emplace_back(Node{tree_, k}, Node{tree_, v});
    k = tree_->at(v).next;
  }
  return out;
}

// Scalars become JSON with YAML 1.2 core typing: ints, floats, bools, null, strings.
nlohmann::json to_json(const Node& n) {
  if (n.IsSequence()) {
    auto a = nlohmann::json::array();
    for (Node x : n)
      a.push_back(to_json(x));
    return a;
  }
  if (n.IsMap()) {
    auto o = nlohmann::json::object();
    for (const auto& [k, v] : n.pairs())
      o[k.Scalar()] = to_json(v);
    return o;
  }
  if (!n.IsScalar()) return nullptr;
  if (n.quoted()) return n.Scalar();  // quoted: always a string
  const std::string& s = n.Scalar();
  long long i = 0;
  double d = 0;
  bool b = false;
  if (decode(n, i) && s.find_first_of(".eE") == std::string::npos) return i;
  if (decode(n, d)) return d;
  if (s == "true" || s == "false" || s == "True" || s == "False") {
    decode(n, b);
    return b;
  }
  if (s == "null" || s == "~") return nullptr;
  return s;
}

SourceLocation Reader::loc(const Node& n) const {
  if (n.line() < 0) return {file_, 0, 0};
  return {file_, n.line() + 1, n.col() + 1};
}

void Reader::throw_if_errors() {
  if (!diags_.empty()) throw InputError(std::move(diags_));
}

void Reader::check_keys(const Node& map, const std::vector<std::string>& allowed,
                        const std::string& what) {
  for (const auto& [k, v] : map.pairs()) {
    if (!k.IsScalar() && !k.IsNull()) {
      error(k, "a key must be a plain name, not a list or a mapping (in " + what + ")");
      continue;
    }
    const std::string& key = k.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      error(k, "unknown key '" + key + "' in " + what + did_you_mean(key, allowed) +
                   "; allowed keys: " + join(allowed));
    }
  }
}

bool Reader::is_map(const Node& n, const std::string& what) {
  if (n.IsMap()) return true;
  error(n, what + " must be a mapping (key: value)");
  return false;
}

std::optional<std::string> Reader::str(const Node& n, const std::string& what) {
  if (!n.IsScalar()) {
    error(n, what + " must be a string");
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<long long> Reader::integer(const Node& n, const std::string& what, long long lo,
                                         long long hi) {
  long long v = 0;
  if (!decode(n, v)) {
    error(n, what + " must be a whole number, got '" + (n.IsScalar() ? n.Scalar() : "?") + "'");
    return std::nullopt;
  }
  if (v < lo || v > hi) {
    error(n, what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                 ", got " + std::to_string(v));
    return std::nullopt;
  }
  return v;
}

std::optional<double> Reader::number(const Node& n, const std::string& what) {
  double v = 0;
  if (!decode(n, v)) {
    error(n, what + " must be a number");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Reader::boolean(const Node& n, const std::string& what) {
  bool v = false;
  if (!decode(n, v)) {
    error(n, what + " must be true or false");
    return std::nullopt;
  }
  return v;
}

std::optional<Millis> Reader::duration(const Node& n, const std::string& what) {
  if (!n.IsScalar()) {
    error(n, what + " must be a duration like 30s, 5m, 2h");
    return std::nullopt;
  }
  auto d = parse_duration(n.Scalar());
  if (!d || d->count() < 0) {
    error(n, what + ": '" + n.Scalar() + "' is not a duration (use e.g. 500ms, 30s, 5m, 2h, 1d)");
    return std::nullopt;
  }
  return *d;
}

std::vector<std::string> Reader::str_list(const Node& n, const std::string& what) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    out.reserve(n.size());
    const std::string entry = what + " entry";
    for (Node item : n) {
      if (auto s = str(item, entry)) out.push_back(*s);
    }
  } else if (!n.IsNull()) {
    error(n, what + " must be a list of strings");
  }
  return out;
}

}  // namespace flow::yaml
