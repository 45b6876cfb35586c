// flow artifacts list | search | show | verify — the FAIR registry of produced files
// (docs/ARTIFACTS.md). Read-only: tasks register artifacts through their outputs file.
#include <cstdio>
#include <iostream>

#include "engine/artifact/kind.hpp"
#include "engine/artifact/media_type.hpp"
#include "engine/cli/app.hpp"
#include "engine/cli/artifact_verify.hpp"
#include "engine/cli/artifact_view.hpp"
#include "engine/cli/render.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/run/ownership.hpp"
#include "engine/state/store.hpp"

namespace flow::cli {

namespace {

// An artifact by id, or by a prefix of exactly one id (like git). Unknown or ambiguous:
// InputError (exit 2) with a hint.
state::ArtifactRecord require_artifact(state::Store& store, const std::string& id) {
  if (auto a = store.get_artifact(id)) return *a;
  const auto ids = store.artifact_ids();
  std::vector<std::string> prefixed;
  for (const auto& x : ids) {
    if (!id.empty() && x.compare(0, id.size(), id) == 0) prefixed.push_back(x);
  }
  if (prefixed.size() == 1) return *store.get_artifact(prefixed[0]);
  if (prefixed.size() > 1) {
    if (prefixed.size() > 5) prefixed.resize(5), prefixed.push_back("...");
    throw InputError(SourceLocation{}, "'" + id + "' is the start of several artifact ids: " +
                                           join(prefixed) + "; give more of the id");
  }
  std::string hint = did_you_mean(id, ids);
  if (hint.empty()) {
    // Perhaps a name: point at the newest artifact of that name.
    for (const auto& a : store.list_artifacts()) {
      if (a.name == id) {
        hint = " (did you mean '" + a.id + "', the newest artifact named '" + id + "'?)";
        break;
      }
    }
  }
  throw InputError(SourceLocation{}, "no artifact '" + id + "' in " + store.path().string() + hint +
                                         " (list them with: flow artifacts list)");
}

// `list` and `search` print the same: the table, or with --json §7.2's array.
void print_artifacts(const std::vector<state::ArtifactRecord>& list, bool json) {
  if (json) {
    auto out = nlohmann::json::array();
    for (const auto& a : list)
      out.push_back(artifact_json(a));
    std::cout << out.dump(2) << "\n";
  } else {
    std::fputs(artifact_table(list).c_str(), stdout);
  }
}

// The options of `flow artifacts search`, as typed.
struct SearchOptions {
  std::string name, format, kind, dag, task, run_id;
  std::vector<std::string> meta;
  int limit = 0;
};

state::ArtifactQuery search_query(const SearchOptions& o) {
  if (!o.kind.empty() && !artifact::is_artifact_kind(o.kind)) {
    throw Error(ErrorKind::kInvalidInput, "--kind '" + o.kind + "': not a kind of artifact" +
                                              did_you_mean(o.kind, artifact::artifact_kinds()) +
                                              "; kinds: " + join(artifact::artifact_kinds()));
  }
  state::ArtifactQuery q;
  q.name = o.name;
  if (!o.format.empty()) q.formats = artifact::format_names(o.format);
  q.kind = o.kind;
  q.dag = o.dag;
  q.task = o.task;
  q.run_id = o.run_id;
  for (const auto& m : o.meta)
    q.metadata.push_back(state::parse_metadata_match(m));
  q.limit = o.limit;
  return q;
}

}  // namespace

void register_artifacts_commands(CLI::App& app, GlobalOptions& g, Action& action,
                                 OptionValues& ov) {
  auto* artifacts = app.add_subcommand(
      "artifacts", "FAIR registry of produced files: JSON-LD metadata, sha256, provenance");
  artifacts->require_subcommand(1);

  {
    auto* cmd = artifacts->add_subcommand("list", "Registered artifacts, newest first");
    add_global_options(*cmd, g);
    auto& run_id = ov.add<std::string>();
    cmd->add_option("--run", run_id, "Only artifacts of this run");
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        if (!run_id.empty()) require_run(*store, run_id);
        print_artifacts(store->list_artifacts(run_id), g.json);
        return 0;
      };
    });
  }

  {
    auto* cmd = artifacts->add_subcommand(
        "search",
        "Artifacts by name, format, kind, DAG, task, run or metadata field (filters AND "
        "together), newest first");
    add_global_options(*cmd, g);
    auto& o = ov.add<SearchOptions>();
    cmd->add_option("--name", o.name,
                    "Name contains this text, or matches it as a glob if it has * ? or [ "
                    "(case-sensitive)");
    cmd->add_option("--format", o.format, "Format or media type (onnx, npz, application/onnx)");
    cmd->add_option("--kind", o.kind, "model, dataset or other");
    cmd->add_option("--dag", o.dag, "Registered by a run of this DAG");
    cmd->add_option("--task", o.task, "Registered by this task (any instance) or instance");
    cmd->add_option("--run", o.run_id, "Registered by this run");
    cmd->add_option("--meta", o.meta,
                    "KEY=VALUE: the metadata field KEY (dots for nested keys) is VALUE or a "
                    "list holding it; repeatable")
        ->allow_extra_args(false);
    cmd->add_option("--limit", o.limit, "At most this many, newest first (0 = all)")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([&] {
      action = [&]() -> int {
        const auto query = search_query(o);
        auto store = state::Store::open_existing(g.db_path());
        if (!o.run_id.empty()) require_run(*store, o.run_id);
        print_artifacts(store->search_artifacts(query), g.json);
        return 0;
      };
    });
  }

  {
    auto* cmd = artifacts->add_subcommand(
        "show", "One artifact: file, hash, run, task, provenance (--json: with JSON-LD)");
    add_global_options(*cmd, g);
    auto& id = ov.add<std::string>();
    cmd->add_option("id", id, "Artifact id (or a unique prefix of one)")->required();
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        auto a = require_artifact(*store, id);
        if (g.json) {
          std::cout << artifact_json(a).dump(2) << "\n";
        } else {
          std::fputs(artifact_details(a).c_str(), stdout);
        }
        return 0;
      };
    });
  }

  {
    auto* cmd = artifacts->add_subcommand(
        "verify",
        "Re-hash the file and compare with its registration; check ONNX models with the ONNX "
        "checker (exit 0 all good, 1 changed/missing/invalid, 2 unknown id)");
    add_global_options(*cmd, g);
    auto& id = ov.add<std::string>();
    cmd->add_option("id", id, "Artifact id (or a unique prefix of one)")->required();
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        auto a = require_artifact(*store, id);
        auto report = verify_artifact(a, run::this_host());
        if (g.json) {
          std::cout << verify_json(report).dump(2) << "\n";
        } else {
          std::fputs(verify_text(report).c_str(), stdout);
        }
        for (const auto& p : report.problems)
          std::fprintf(stderr, "flow: artifact %s: %s\n", a.id.c_str(), p.c_str());
        return report.ok() ? 0 : static_cast<int>(ErrorKind::kFailure);
      };
    });
  }
}

}  // namespace flow::cli
