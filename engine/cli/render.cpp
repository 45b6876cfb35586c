#include "engine/cli/render.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/state/trial_segment.hpp"

namespace flow::cli {

namespace {
nlohmann::json time_or_null(EpochMs t) {
  return t ? nlohmann::json(iso_utc(t)) : nlohmann::json();
}

double duration_s(EpochMs start, EpochMs end) {
  if (!start) return 0;
  EpochMs e = end ? end : now_ms();
  return static_cast<double>(e - start) / 1000.0;
}
}  // namespace

nlohmann::json run_json(const state::RunRecord& r) {
  return {{"id", r.id},
          {"dag", r.dag},
          {"state", state::to_string(r.state)},
          {"started", time_or_null(r.started)},
          {"ended", time_or_null(r.ended)},
          {"duration_s", duration_s(r.started, r.ended)},
          {"dag_hash", r.dag_hash},
          {"dag_file", r.dag_file},
          {"params", r.params},
          {"run_dir", r.run_dir},
          {"logical_date", r.logical_date},
          {"data_interval_start", r.data_interval_start},
          {"data_interval_end", r.data_interval_end}};
}

nlohmann::json instance_json(const state::InstanceRecord& i, const run::Waiting* waiting) {
  nlohmann::json t = {{"id", i.id},
                      {"task", i.task_id},
                      {"state", state::to_string(i.state)},
                      {"try", i.try_number},
                      {"site", i.site},
                      {"job_id", i.job_id.empty() ? nlohmann::json() : nlohmann::json(i.job_id)},
                      {"started", time_or_null(i.started)},
                      {"ended", time_or_null(i.ended)},
                      {"duration_s", duration_s(i.started, i.ended)},
                      {"message", i.message}};
  if (i.map_index >= 0) t["map_index"] = i.map_index;
  if (const state::SegmentTry s = state::segment_try_of(i); s.is_trial()) {
    t["segment"] = s.segment;
    t["segment_try"] = s.try_in_segment;
  }
  if (!i.native_state.empty()) t["native_state"] = i.native_state;
  if (i.exit_code) t["exit_code"] = i.exit_code;
  if (!i.outputs.is_null()) t["outputs"] = i.outputs;
  if (waiting) t["waiting"] = {{"reason", waiting->reason}, {"text", waiting->text}};
  return t;
}

void print_status_json(std::FILE* out, const state::RunRecord& run, StatusPages& pages) {
  // The keys in dump()'s order: "run", then "tasks", streamed.
  std::string text = "{\n  \"run\": " + dump_nested(run_json(run), 1) + ",\n  \"tasks\": [";
  bool first = true;
  pages.for_each_page(StatusFilter{}, [&](std::vector<StatusRow>& rows) {
    for (const auto& r : rows) {
      text += (first ? "\n    " : ",\n    ") + dump_nested(instance_json(r.instance, nullptr), 2);
      first = false;
    }
    std::fputs(text.c_str(), out);
    text.clear();
  });
  text += first ? "]\n}\n" : "\n  ]\n}\n";
  std::fputs(text.c_str(), out);
}

std::string dump_nested(const nlohmann::json& value, int depth) {
  std::string text = value.dump(2);
  const std::string pad(static_cast<size_t>(2 * depth), ' ');
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

nlohmann::json usage_json(const state::ResourceUse& u) {
  auto or_null = [](int64_t v, double scale) {
    return v < 0 ? nlohmann::json() : nlohmann::json(static_cast<double>(v) / scale);
  };
  const double eff = u.cpu_efficiency();
  return {
      {"cpu_s", or_null(u.cpu_ms, 1000.0)},
      {"max_rss_bytes", u.max_rss_bytes < 0 ? nlohmann::json() : nlohmann::json(u.max_rss_bytes)},
      {"wall_s", or_null(u.wall_ms, 1000.0)},
      {"cpus", u.cpus > 0 ? nlohmann::json(u.cpus) : nlohmann::json()},
      {"gpus", u.gpus > 0 ? nlohmann::json(u.gpus) : nlohmann::json()},
      {"cpu_efficiency", eff < 0 ? nlohmann::json() : nlohmann::json(eff)},
      {"core_hours", u.core_hours() < 0 ? nlohmann::json() : nlohmann::json(u.core_hours())},
      {"gpu_hours", u.gpu_hours() < 0 ? nlohmann::json() : nlohmann::json(u.gpu_hours())}};
}

std::string status_try_cell(const state::InstanceRecord& i) {
  const state::SegmentTry s = state::segment_try_of(i);
  return s.is_trial() ? state::attempt_label(i.try_number, s) : std::to_string(i.try_number);
}

std::string status_heading(const state::RunRecord& run, size_t id_width, size_t try_width) {
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof buf, "run %s  dag %s  %s  started %s\n", run.id.c_str(),
                run.dag.c_str(), std::string(state::to_string(run.state)).c_str(),
                iso_utc(run.started).c_str());
  out += buf;
  std::snprintf(buf, sizeof buf, "%-*s  %-15s  %*s  %-14s  %-10s  %9s  %s\n",
                static_cast<int>(std::max<size_t>(id_width, 4)), "TASK", "STATE",
                static_cast<int>(std::max<size_t>(try_width, 3)), "TRY", "SITE", "JOB", "DURATION",
                "MESSAGE");
  return out + buf;
}

std::string status_line(const state::InstanceRecord& i, const run::Waiting* waiting,
                        size_t id_width, size_t try_width) {
  std::string dur =
      i.started
          ? human_duration(Millis(static_cast<long long>(duration_s(i.started, i.ended) * 1000)))
          : "-";
  std::string msg = i.message.substr(0, i.message.find('\n'));
  if (waiting && msg.empty()) msg = "waiting: " + waiting->text;
  if (msg.size() > 60) msg = msg.substr(0, 57) + "...";
  // Longer than a fixed buffer can be (an id of any length), so sized by a first pass.
  const auto print = [&](char* buf, size_t size) {
    return std::snprintf(buf, size, "%-*s  %-15s  %*s  %-14s  %-10s  %9s  %s\n",
                         static_cast<int>(std::max<size_t>(id_width, 4)), i.id.c_str(),
                         std::string(state::to_string(i.state)).c_str(),
                         static_cast<int>(std::max<size_t>(try_width, 3)),
                         status_try_cell(i).c_str(), i.site.c_str(),
                         i.job_id.empty() ? "-" : i.job_id.c_str(), dur.c_str(), msg.c_str());
  };
  std::string out(static_cast<size_t>(print(nullptr, 0)) + 1, '\0');
  print(out.data(), out.size());
  out.pop_back();
  return out;
}

state::RunRecord require_run(state::Store& store, const std::string& run_id) {
  auto run = store.get_run(run_id);
  if (!run) {
    throw Error(ErrorKind::kInvalidInput, "no run '" + run_id + "' in " + store.path().string() +
                                              " (list runs with: flow runs)");
  }
  return *run;
}

nlohmann::json deliveries_json(const std::vector<state::DeliveryRecord>& deliveries) {
  auto out = nlohmann::json::array();
  for (const auto& d : deliveries) {
    out.push_back(
        {{"id", d.id},
         {"event", d.event},
         {"task", d.instance_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.instance_id)},
         {"try", d.try_number},
         {"kind", d.kind},
         {"target", d.target},
         {"state", d.state},
         {"attempts", d.attempts},
         {"error", d.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.error)},
         {"created", d.created ? nlohmann::json(iso_utc(d.created)) : nullptr},
         {"updated", d.updated ? nlohmann::json(iso_utc(d.updated)) : nullptr}});
  }
  return out;
}

std::string deliveries_text(const std::vector<state::DeliveryRecord>& deliveries) {
  std::string out;
  int delivered = 0;
  for (const auto& d : deliveries) {
    if (d.state == "delivered") {
      ++delivered;
      continue;
    }
    out += "notification " + d.event + " of " +
           (d.instance_id.empty() ? std::string("the run") : "task " + d.instance_id) + " (" +
           d.kind + " " + d.target + "): " + d.state;
    if (d.attempts > 0) out += " after " + std::to_string(d.attempts) + " attempt(s)";
    if (!d.error.empty()) out += ": " + d.error;
    out += "\n";
  }
  if (delivered > 0) out += std::to_string(delivered) + " notification(s) delivered\n";
  return out;
}

}  // namespace flow::cli
