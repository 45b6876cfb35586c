#include "operators/slurm/job_staging.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <sstream>

#include "engine/artifact/declaration.hpp"
#include "engine/artifact/fetched.hpp"
#include "engine/core/shell.hpp"
#include "engine/core/suggest.hpp"
#include "engine/core/text_file.hpp"
#include "operators/slurm/remote_dir.hpp"
#include "operators/staging/code_files.hpp"
#include "operators/staging/stager.hpp"

namespace flow::slurm {

namespace {

// Files of a local input: the file itself, or every regular file under a directory.
std::vector<std::pair<std::string, std::filesystem::path>> expand(const std::string& rel,
                                                                  const std::filesystem::path& p) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, fs::path>> out;
  std::error_code ec;
  if (!fs::is_directory(p, ec)) {
    out.emplace_back(rel, p);
    return out;
  }
  for (auto it = fs::recursive_directory_iterator(p, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec))
      out.emplace_back(rel + "/" + it->path().lexically_relative(p).generic_string(), it->path());
  }
  return out;
}

int mode_of(const std::filesystem::path& p) {
  std::error_code ec;
  auto perms = std::filesystem::status(p, ec).permissions();
  bool exec = (perms & std::filesystem::perms::owner_exec) != std::filesystem::perms::none;
  return exec ? 0755 : 0644;
}

std::filesystem::path report_file(const run::LaunchSpec& spec) {
  auto p = spec.files.log;
  return p.replace_extension(".staging.json");
}

// What one download step after a job did, for <try>.staging.json.
nlohmann::json transfer_report(const char* what, const staging::Report& r,
                               const std::string& job_id,
                               std::chrono::steady_clock::time_point started) {
  return {{what, r.to_json()},
          {"job_id", job_id},
          {"seconds",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}};
}

StageResult failed(std::string why) {
  return {StageResult::Status::kFailed, std::move(why)};
}

}  // namespace

JobStaging::JobStaging(boost::asio::io_context& io, site::Site site, transport::Transport& primary)
    : io_(io), site_(std::move(site)), primary_(primary), alive_(std::make_shared<bool>(true)) {}

JobStaging::~JobStaging() {
  alive_.reset();
  worker_.stop();
  worker_.join();
}

bool JobStaging::has_inputs(const run::LaunchSpec& spec) {
  return !spec.staging.code.empty() || !spec.staging.inputs.empty();
}

bool JobStaging::has_outputs(const run::LaunchSpec& spec) {
  return !spec.staging.outputs.empty();
}

bool JobStaging::registers_artifacts(const run::LaunchSpec& spec) const {
  if (site_.transport != site::Transport::kSsh) return false;
  auto text = read_file(spec.files.outputs);
  if (!text) return false;
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("artifacts");
}

std::string JobStaging::remote_run_dir(const std::string& run_id) const {
  return without_trailing_slash(site_.workdir) + "/runs/" + run_id;
}

staging::Stager& JobStaging::stager(const run::LaunchSpec& spec) {
  if (!stager_) {
    transport_ = primary_.open_another();
    staging::StagerOptions o;
    // $FLOW_HOME/runs/RUN -> $FLOW_HOME/cache
    if (const auto& rd = spec.staging.local_run_dir; !rd.empty())
      o.digest_cache = rd.parent_path().parent_path() / "cache" / "staging-digests.tsv";
    o.streams = site_.transfer_streams;
    stager_ = std::make_unique<staging::Stager>(*transport_, o);
  }
  return *stager_;
}

void JobStaging::offload(std::function<StageResult()> work, Done done) {
  std::weak_ptr<bool> alive = alive_;
  boost::asio::post(worker_, [this, alive, work = std::move(work), done = std::move(done)] {
    StageResult r;
    try {
      r = work();
    } catch (const staging::Stopped&) {
      r = {StageResult::Status::kUnreachable, "stopped"};
    } catch (const transport::Unreachable& e) {
      r = {StageResult::Status::kUnreachable, e.what()};
    } catch (const std::exception& e) {
      r = failed(e.what());
    }
    boost::asio::post(io_, [alive, done, r = std::move(r)]() mutable {
      if (alive.lock()) done(std::move(r));
    });
  });
}

void JobStaging::record(const run::LaunchSpec& spec, const std::string& phase,
                        const nlohmann::json& what) {
  const auto file = report_file(spec);
  nlohmann::json j = nlohmann::json::object();
  if (auto text = read_file(file)) {
    auto old = nlohmann::json::parse(*text, nullptr, false);
    if (old.is_object()) j = std::move(old);
  }
  j["site"] = site_.name;
  j[phase] = what;
  try {
    write_file_atomic(file, j.dump(2) + "\n");
  } catch (const std::exception&) {
    // A report that cannot be written must not fail the attempt.
  }
}

void JobStaging::stage_in(const run::LaunchSpec& spec, std::shared_ptr<std::atomic<bool>> stop,
                          Done done) {
  offload([this, spec, stop] { return do_stage_in(spec, *stop); }, std::move(done));
}

void JobStaging::stage_out(const run::LaunchSpec& spec, const std::string& job_id, Done done) {
  offload([this, spec, job_id] { return do_stage_out(spec, job_id); }, std::move(done));
}

StageResult JobStaging::do_stage_in(const run::LaunchSpec& spec, const std::atomic<bool>& stop) {
  const auto& plan = spec.staging;
  const auto started = std::chrono::steady_clock::now();
  if (auto gone = run::missing_inputs(plan); !gone.empty()) return failed(gone);
  auto& st = stager(spec);
  st.set_stop(&stop);
  struct Unset {
    staging::Stager& s;
    ~Unset() { s.set_stop(nullptr); }
  } unset{st};
  const std::string rdir = remote_run_dir(spec.key.run_id);
  nlohmann::json report = nlohmann::json::object();
  std::vector<std::string> said;
  if (!plan.code.empty() && !code_synced_.count(spec.key.run_id)) {
    std::vector<staging::FileCopy> files;
    for (const auto& f : staging::code_files(plan.local_workdir, plan.code))
      files.push_back({f.local, rdir + "/" + f.relative, 0644});
    auto r = st.sync_tree(files, without_trailing_slash(site_.workdir) + "/cache/sha256");
    code_synced_.insert(spec.key.run_id);
    report["code"] = r.to_json();
    said.push_back("code " + r.summary());
  }
  std::vector<staging::FileCopy> uploads;
  std::vector<std::string> on_site;
  for (const auto& in : plan.inputs) {
    if (in.base == dag::PathBase::kSite) {
      on_site.push_back(without_trailing_slash(site_.workdir) + "/" + in.path);
      continue;
    }
    for (const auto& [rel, local] : expand(in.path, in.local))
      uploads.push_back({local, rdir + "/" + rel, mode_of(local)});
  }
  if (!on_site.empty()) {
    std::string cmd = "for f in";
    for (const auto& p : on_site)
      cmd += " " + shell_quote(p);
    cmd += "; do [ -e \"$f\" ] || echo \"$f\"; done";
    auto res = transport_->run_idempotent(cmd, std::chrono::minutes(1));
    std::string missing = res.out;
    while (!missing.empty() && missing.back() == '\n')
      missing.pop_back();
    if (!missing.empty()) {
      for (auto& c : missing)
        if (c == '\n') c = ' ';
      return failed("declared input missing on site '" + site_.name + "': " + missing +
                    " (base: site inputs are never copied; put them there first)");
    }
  }
  if (!uploads.empty()) {
    auto r = st.upload(uploads);
    report["inputs"] = r.to_json();
    // Every try of a task checks its inputs; say so only when something moved.
    if (r.sent > 0) said.push_back("inputs " + r.summary());
  }
  if (report.empty()) return {};
  report["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  record(spec, "stage_in", report);
  return {StageResult::Status::kDone, said.empty() ? "" : join(said, "; ")};
}

StageResult JobStaging::do_stage_out(const run::LaunchSpec& spec, const std::string& job_id) {
  StageResult result = stage_out_declared(spec, job_id);
  if (result.status != StageResult::Status::kDone || !registers_artifacts(spec)) return result;
  StageResult fetched = fetch_artifacts(spec, job_id);
  if (fetched.status != StageResult::Status::kDone) return fetched;
  if (!fetched.message.empty())
    result.message += (result.message.empty() ? "" : "; ") + fetched.message;
  return result;
}

StageResult JobStaging::stage_out_declared(const run::LaunchSpec& spec, const std::string& job_id) {
  const auto& plan = spec.staging;
  if (plan.outputs.empty()) return {};  // nothing to bring back
  const auto started = std::chrono::steady_clock::now();
  auto& st = stager(spec);
  const std::string rdir = remote_run_dir(spec.key.run_id);
  std::vector<staging::FileCopy> downloads;
  std::vector<std::string> on_site;
  for (const auto& out : plan.outputs) {
    if (out.base == dag::PathBase::kSite) {
      on_site.push_back(without_trailing_slash(site_.workdir) + "/" + out.path);
    } else {
      downloads.push_back({out.local, rdir + "/" + out.path, 0644});
    }
  }
  if (!on_site.empty()) {
    auto there = st.remote_sha256(on_site);
    std::vector<std::string> gone;
    for (const auto& p : on_site)
      if (!there.count(p)) gone.push_back(p);
    if (!gone.empty())
      return failed("the task succeeded but did not write its declared output on site '" +
                    site_.name + "': " + join(gone));
  }
  StageResult result;
  if (!downloads.empty()) {
    staging::Report r;
    try {
      r = st.download(downloads);
    } catch (const staging::StageError& e) {
      return failed("the task succeeded but did not write its declared output on site '" +
                    site_.name + "' (" + e.what() + ")");
    }
    record(spec, "stage_out", transfer_report("outputs", r, job_id, started));
    result.message = "outputs " + r.summary();
  }
  return result;
}

StageResult JobStaging::fetch_artifacts(const run::LaunchSpec& spec, const std::string& job_id) {
  std::vector<artifact::Declaration> declared;
  try {
    auto text = read_file(spec.files.outputs);
    declared = artifact::parse_declarations(nlohmann::json::parse(text.value_or("{}")));
  } catch (const std::exception&) {
    return {};  // registration says what is wrong with the declarations
  }
  if (declared.empty()) return {};
  const auto started = std::chrono::steady_clock::now();
  const std::string rdir = remote_run_dir(spec.key.run_id);
  const std::filesystem::path local_dir = spec.staging.local_run_dir;
  std::vector<staging::FileCopy> downloads;
  std::map<std::string, std::string> declared_at;  // remote path -> the path as declared
  for (const auto& d : declared) {
    // Where the file is on the site: a relative path from the job's working directory (its
    // run directory), never climbing out of it; an absolute path as it is.
    std::string remote;
    std::filesystem::path local;
    const auto p = std::filesystem::path(d.path).lexically_normal();
    if (p.is_absolute()) {
      remote = p.generic_string();
      const auto rel = p.lexically_relative(rdir);
      if (!rel.empty() && *rel.begin() != "..")
        local = local_dir / rel;
      else  // elsewhere on the site: kept apart, under the site's name
        local = local_dir / "site-files" / site_.name / p.relative_path();
    } else if (!p.empty() && *p.begin() != "..") {
      remote = rdir + "/" + p.generic_string();
      local = local_dir / p;
    } else {
      continue;  // climbs out: registration refuses it with the rule's message
    }
    if (declared_at.count(remote)) continue;  // registration names the duplicate
    declared_at[remote] = d.path;
    downloads.push_back({local, remote, 0644});
  }
  if (downloads.empty()) return {};
  auto& st = stager(spec);
  std::map<std::string, std::string> sha;
  staging::Report r;
  try {
    r = st.download(downloads, &sha);
  } catch (const staging::StageError& e) {
    return failed("an artifact the task registered cannot be fetched (" + std::string(e.what()) +
                  ")");
  }
  artifact::FetchedFiles files;
  const std::string host = site_.host + ":" + std::to_string(site_.port);
  for (const auto& c : downloads) {
    nlohmann::json origin = {{"site", site_.name},
                             {"host", host},
                             {"path", c.remote},
                             {"job_id", job_id},
                             {"sha256", sha.count(c.remote) ? sha.at(c.remote) : ""}};
    files[declared_at.at(c.remote)] = {std::filesystem::absolute(c.local), std::move(origin)};
  }
  artifact::write_fetched(spec.files.outputs, files);
  record(spec, "fetch_artifacts", transfer_report("artifacts", r, job_id, started));
  return {StageResult::Status::kDone, "artifacts " + r.summary()};
}

}  // namespace flow::slurm
