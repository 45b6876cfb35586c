#pragma once
// The one YAML reader of flow: DAG files (engine/dag/loader.cpp), site files
// (engine/site/site.cpp) and module stacks (operators/lamec/module_catalog.cpp) are all read
// through it, so they share one set of rules for hostile input and one way to point at a
// line.
//
//  - Tree parses the first document of a text with libyaml's event parser (5x faster
//    than yaml-cpp's scanner; the events mean what yaml-cpp's did) into a compact array (a
//    100,000-task DAG in ~10x less memory than YAML::Load's tree; see
//    docs/BENCHMARKS.md). It refuses text that is not UTF-8, an alias inside the node its
//    anchor names, and aliases that expand the document past 16x its size plus 1 MiB
//    ("billion laughs"), with the position of the offending node.
//  - Node is a view of one node with the small part of YAML::Node's interface the readers
//    need, with the same meaning: a quoted scalar is always a string (quoted()), `~`,
//    `null` and empty values are Null, aliases read as the node they name (positions are
//    where they are used), a map lookup returns the first pair whose key is that string.
//  - Reader collects located diagnostics (file:line:col) while a reader walks a tree, so a
//    file with five mistakes reports five, and typed getters say what was expected.
//  - is_valid_name is the one rule for names that become file names or ids: DAG and task
//    ids, site and system names.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"

namespace flow::yaml {

// Letters, digits, '_', '.', '-'; not empty, not "." or "..", at most 200 characters. Such
// a name is safe as one path component and in a shell word.
bool is_valid_name(std::string_view name);

// Is `s` valid UTF-8 (RFC 3629: shortest forms only, no surrogates, at most U+10FFFF)?
bool is_utf8(std::string_view s);

class Tree {
 public:
  enum class Kind : uint8_t { kNull, kScalar, kSequence, kMap, kAlias };
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Item {
    Kind kind = Kind::kNull;
    bool quoted = false;     // scalar written in quotes (yaml-cpp tag "!"): always a string
    int line = 0, col = 0;   // 0-based, as YAML::Mark
    uint32_t first = kNone;  // first child (maps: key, value, key, value, ...); alias target
    uint32_t next = kNone;   // next sibling
    uint32_t size = 0;       // sequence items or map pairs
    std::string scalar;
  };

  // Parses the first document of `text` (none: a Null root). Throws YAML::Exception with
  // the position of the problem (see the header comment for what is refused).
  explicit Tree(const std::string& text);

  const Item& at(uint32_t i) const { return items_[i]; }
  uint32_t resolve(uint32_t i) const {
    return items_[i].kind == Kind::kAlias ? items_[i].first : i;
  }

 private:
  std::vector<Item> items_;
};

// Parses `text`; a YAML error becomes an InputError "invalid YAML: ..." located in `file`.
Tree parse(const std::string& text, const std::string& file);

// The whole file. A missing file is an InputError "no such file" located at `path`; one
// that cannot be read is an EnvironmentError.
std::string read_file(const std::filesystem::path& path);

// A node of a Tree, or no node (false) when a key is missing.
class Node {
 public:
  Node() = default;
  Node(const Tree* tree, uint32_t slot) : tree_(tree), slot_(slot) {}
  // The root of `tree`.
  explicit Node(const Tree& tree) : tree_(&tree), slot_(0) {}

  explicit operator bool() const { return tree_ != nullptr; }
  bool IsNull() const { return !tree_ || item().kind == Tree::Kind::kNull; }
  bool IsScalar() const { return tree_ && item().kind == Tree::Kind::kScalar; }
  bool IsSequence() const { return tree_ && item().kind == Tree::Kind::kSequence; }
  bool IsMap() const { return tree_ && item().kind == Tree::Kind::kMap; }
  bool quoted() const { return IsScalar() && item().quoted; }
  const std::string& Scalar() const {
    static const std::string empty;
    return IsScalar() ? item().scalar : empty;
  }
  size_t size() const { return IsMap() || IsSequence() ? item().size : 0; }
  int line() const { return tree_ ? tree_->at(slot_).line : -1; }  // 0-based; -1: no node
  int col() const { return tree_ ? tree_->at(slot_).col : -1; }

  // Map lookup: the value of the first key that is exactly `key`; no node if none.
  Node operator[](std::string_view key) const {
    if (!IsMap()) return {};
    for (uint32_t k = item().first; k != Tree::kNone;) {
      uint32_t v = tree_->at(k).next;
      if (v == Tree::kNone) break;
      const auto& key_item = tree_->at(tree_->resolve(k));
      if (key_item.kind == Tree::Kind::kScalar && key_item.scalar == key) return {tree_, v};
      k = tree_->at(v).next;
    }
    return {};
  }

  // Children in order: items of a sequence; for a map keys and values alternate.
  class Iterator {
   public:
    Iterator(const Tree* t, uint32_t s) : tree_(t), slot_(s) {}
    Node operator*() const { return {tree_, slot_}; }
    Iterator& operator++() {
      slot_ = tree_->at(slot_).next;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return slot_ != o.slot_; }

   private:
    const Tree* tree_;
    uint32_t slot_;
  };
  Iterator begin() const { return {tree_, IsMap() || IsSequence() ? item().first : Tree::kNone}; }
  Iterator end() const { return {tree_, Tree::kNone}; }

  // (key, value) pairs of a map.
  std::vector<std::pair<Node, Node>> pairs() const;

 private:
  const Tree::Item& item() const { return tree_->at(tree_->resolve(slot_)); }
  const Tree* tree_ = nullptr;
  uint32_t slot_ = 0;
};

// yaml-cpp's own scalar conversions (YAML::convert<T>), so numbers, booleans and special
// values (0x1f, .inf, yes/no, ...) read exactly as they do with YAML::Load.
template <class T>
bool decode(const Node& n, T& out) {
  return n.IsScalar() && YAML::convert<T>::decode(YAML::Node(n.Scalar()), out);
}

// Scalars become JSON with YAML 1.2 core typing: ints, floats, bools, null, strings.
nlohmann::json to_json(const Node& n);

// Collects diagnostics while walking a tree of `file`.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  // file:line:col of `n` (1-based); just the file for no node.
  SourceLocation loc(const Node& n) const;
  void error(const Node& n, const std::string& msg) { diags_.push_back({loc(n), msg}); }
  void error(const SourceLocation& l, const std::string& msg) { diags_.push_back({l, msg}); }
  std::vector<Diagnostic>& diagnostics() { return diags_; }
  // Throws InputError with every diagnostic so far, if there is one.
  void throw_if_errors();

  // Reports keys of `map` not in `allowed` (and keys that are lists or mappings). `what`
  // names the mapping ("task 'x'").
  void check_keys(const Node& map, const std::vector<std::string>& allowed,
                  const std::string& what);

  bool is_map(const Node& n, const std::string& what);
  std::optional<std::string> str(const Node& n, const std::string& what);
  std::optional<long long> integer(const Node& n, const std::string& what, long long lo,
                                   long long hi);
  std::optional<double> number(const Node& n, const std::string& what);
  std::optional<bool> boolean(const Node& n, const std::string& what);
  std::optional<Millis> duration(const Node& n, const std::string& what);
  // A string or a list of strings.
  std::vector<std::string> str_list(const Node& n, const std::string& what);

 private:
  std::string file_;
  std::vector<Diagnostic> diags_;
};

}  // namespace flow::yaml
