#include "engine/dag/template_names.hpp"

#include <array>

namespace flow::dag {

namespace {

constexpr std::array kNames = {
    TemplateName{"params.X", NameKind::kParam, "the parameter X, after -p overrides"},
    TemplateName{"run.id", NameKind::kRunField, "the run id"},
    TemplateName{"run.dag", NameKind::kRunField, "the DAG name"},
    TemplateName{"run.dir", NameKind::kRunField, "the run directory on the task's site"},
    TemplateName{"run.logical_date", NameKind::kRunField, "the run's logical date (ISO 8601 UTC)"},
    TemplateName{"run.data_interval_start", NameKind::kRunField,
                 "start of the run's data interval (ISO 8601 UTC)"},
    TemplateName{"run.data_interval_end", NameKind::kRunField,
                 "end of the run's data interval (ISO 8601 UTC)"},
    TemplateName{"tasks.T.outputs.K", NameKind::kTaskOutput,
                 "output K of upstream task T (a list for a foreach task; the best trial's "
                 "for an hpo task)"},
    TemplateName{"tasks.T.best.params.X", NameKind::kBestParam,
                 "parameter X of the best trial of hpo task T"},
    TemplateName{"tasks.T.best.params_json", NameKind::kBestField,
                 "all parameters of the best trial of hpo task T, as one JSON object"},
    TemplateName{"tasks.T.best.metric", NameKind::kBestField,
                 "the metric of the best trial of hpo task T"},
    TemplateName{"tasks.T.best.trial", NameKind::kBestField,
                 "the id of the best trial of hpo task T (trial-N)"},
    TemplateName{"tasks.T.best.epochs", NameKind::kBestField,
                 "the epochs the best trial of hpo task T trained"},
    TemplateName{"trial.params.X", NameKind::kTrialParam, "parameter X of this trial"},
    TemplateName{"trial.params_json", NameKind::kTrialField,
                 "all parameters of this trial, as one JSON object"},
    TemplateName{"trial.epochs", NameKind::kTrialField, "the epoch this segment trains to"},
    TemplateName{"trial.id", NameKind::kTrialField, "this trial's id (trial-N)"},
    TemplateName{"item", NameKind::kItem, "the element of a foreach instance"},
    TemplateName{"item.F", NameKind::kItemField,
                 "field F of the element (item.a.b for nested fields)"},
    TemplateName{"secrets.X", NameKind::kSecret,
                 "the value of secret X (secrets:), read when the run starts or resumes"},
};

bool is_placeholder(std::string_view seg) {
  return seg == "T" || seg == "K" || seg == "X" || seg == "F";
}

std::vector<std::string_view> segments(std::string_view pattern) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= pattern.size(); ++i) {
    if (i == pattern.size() || pattern[i] == '.') {
      out.push_back(pattern.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool matches(std::string_view pattern, const std::vector<std::string>& path) {
  const auto segs = segments(pattern);
  const bool open_end = !segs.empty() && segs.back() == "F";
  if (path.size() < segs.size() || (!open_end && path.size() != segs.size())) return false;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (is_placeholder(segs[i])) {
      if (path[i].empty()) return false;
    } else if (segs[i] != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::span<const TemplateName> template_names() {
  return kNames;
}

std::optional<TemplateName> match_template_name(const std::vector<std::string>& path) {
  for (const auto& n : kNames) {
    if (matches(n.pattern, path)) return n;
  }
  return std::nullopt;
}

std::string template_names_starting(std::string_view head) {
  std::string out;
  for (const auto& n : kNames) {
    if (!head.empty() && segments(n.pattern).front() != head) continue;
    out += (out.empty() ? "" : ", ") + std::string(n.pattern);
  }
  return out;
}

}  // namespace flow::dag
