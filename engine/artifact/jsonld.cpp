#include "engine/artifact/jsonld.hpp"

#include <cstdio>

#include "engine/artifact/kind.hpp"
#include "engine/core/clock.hpp"

namespace flow::artifact {

namespace {

// Percent-encodes everything but RFC 3986 unreserved characters and those in `keep`.
std::string escape(const std::string& s, const char* keep) {
  std::string out;
  for (unsigned char c : s) {
    bool plain =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' ||
        (c != 0 && std::string_view(keep).find(static_cast<char>(c)) != std::string_view::npos);
    if (plain) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// schema.org terms: those flow writes, and those a task's metadata commonly means in
// schema.org's sense. Every other plain key is flow's own (kFlowVocab).
constexpr const char* kSchemaOrgTerms[] = {
    // written by flow
    "identifier", "propertyID", "value", "name", "description", "encodingFormat", "contentSize",
    "sha256", "contentUrl", "dateCreated", "instrument", "object", "result", "agent",
    "softwareVersion", "location", "startTime", "endTime",
    // a task's metadata (schema.org CreativeWork / Dataset / MediaObject properties)
    "license", "keywords", "author", "creator", "contributor", "publisher", "funder", "citation",
    "version", "url", "sameAs", "about", "isBasedOn", "inLanguage", "dateModified", "datePublished",
    "copyrightHolder", "copyrightYear", "conditionsOfAccess", "creativeWorkStatus", "alternateName",
    "temporalCoverage", "spatialCoverage", "variableMeasured", "measurementTechnique",
    "includedInDataCatalog", "distribution", "uploadDate"};
// schema.org types flow uses as "@type" values (resolved against @vocab otherwise).
constexpr const char* kSchemaOrgTypes[] = {
    "PropertyValue",       "CreateAction", "SoftwareSourceCode",
    "SoftwareApplication", "Place",        "Dataset"};

nlohmann::json context() {
  nlohmann::json c = {{"@vocab", kFlowVocab},
                      {"schema", "http://schema.org/"},
                      {"prov", "http://www.w3.org/ns/prov#"},
                      {"xsd", "http://www.w3.org/2001/XMLSchema#"},
                      {"File", "http://schema.org/MediaObject"}};
  for (const char* t : kSchemaOrgTerms)
    c[t] = std::string("schema:") + t;
  for (const char* t : kSchemaOrgTypes)
    c[t] = std::string("schema:") + t;
  return c;
}

nlohmann::json date_time(EpochMs t) {
  return {{"@type", "xsd:dateTime"}, {"@value", iso_utc(t)}};
}

nlohmann::json property(const std::string& id, nlohmann::json value) {
  return {{"@type", "PropertyValue"}, {"propertyID", id}, {"value", std::move(value)}};
}

// A run parameter as a PropertyValue; lists and objects as their JSON text, since a JSON-LD
// processor would read a nested object as a node.
nlohmann::json parameter(const std::string& name, const nlohmann::json& value) {
  nlohmann::json v =
      value.is_primitive() && !value.is_null() ? value : nlohmann::json(value.dump());
  return {{"@type", "PropertyValue"}, {"name", name}, {"value", std::move(v)}};
}

nlohmann::json refs(const std::vector<std::string>& ids) {
  auto out = nlohmann::json::array();
  for (const auto& id : ids)
    out.push_back({{"@id", artifact_iri(id)}});
  return out;
}

// The site the try ran on; for a file fetched from an SSH site also its host.
nlohmann::json location(const state::ArtifactRecord& a) {
  nlohmann::json place = {{"@type", "Place"}, {"name", a.site}, {"description", "flow site"}};
  if (const std::string host = a.origin.value("host", ""); !host.empty())
    place["identifier"] = property("host", host);
  return place;
}

nlohmann::json activity(const state::ArtifactRecord& a) {
  const std::string self = artifact_iri(a.id);
  auto object = nlohmann::json::array();
  for (const auto& [k, v] : a.params.items())
    object.push_back(parameter(k, v));
  for (auto& r : refs(a.derived_from))
    object.push_back(std::move(r));
  nlohmann::json act = {
      {"@id", "urn:flow:run:" + escape(a.run_id, "") + ":task:" + escape(a.instance_id, "") +
                  ":try:" + std::to_string(a.try_number)},
      {"@type", {"CreateAction", "prov:Activity"}},
      {"name", "task " + a.instance_id + " of run " + a.run_id + " (DAG " + a.dag + "), try " +
                   std::to_string(a.try_number)},
      {"identifier",
       {property("flow-run", a.run_id), property("flow-task", a.instance_id),
        property("flow-try", a.try_number)}},
      {"instrument",
       {{"@id", "urn:flow:dag:" + escape(a.dag, "") + ":sha256:" + a.dag_hash},
        {"@type", {"SoftwareSourceCode", "prov:Plan"}},
        {"name", a.dag},
        {"identifier", property("sha256", a.dag_hash)}}},
      {"object", std::move(object)},
      {"prov:used", refs(a.derived_from)},
      {"result", {{"@id", self}}},
      {"agent",
       {{"@id", std::string("urn:flow:engine:") + FLOW_VERSION},
        {"@type", {"SoftwareApplication", "prov:SoftwareAgent"}},
        {"name", "flow"},
        {"softwareVersion", FLOW_VERSION}}},
      {"location", location(a)},
      {"endTime", iso_utc(a.created)},
      {"prov:endedAtTime", date_time(a.created)},
  };
  act["prov:wasAssociatedWith"] = {{"@id", act["agent"]["@id"]}};
  if (const std::string job = a.origin.value("job_id", ""); !job.empty())
    act["identifier"].push_back(property("slurm-job-id", job));
  if (a.started) {
    act["startTime"] = iso_utc(a.started);
    act["prov:startedAtTime"] = date_time(a.started);
  }
  return act;
}

}  // namespace

std::string artifact_iri(const std::string& id) {
  return "urn:flow:artifact:" + escape(id, "");
}

std::string file_url(const std::string& absolute_path) {
  return "file://" + escape(absolute_path, "/");
}

nlohmann::json artifact_jsonld(const state::ArtifactRecord& a) {
  nlohmann::json j = {
      {"@context", context()},
      {"@id", artifact_iri(a.id)},
      {"@type", a.kind == kDataset ? nlohmann::json{"File", "Dataset", "prov:Entity"}
                                   : nlohmann::json{"File", "prov:Entity"}},
      {"identifier", {property("flow-artifact-id", a.id), property("sha256", a.sha256)}},
      {"name", a.name},
      {"encodingFormat", a.encoding_format},
      {"contentSize", std::to_string(a.size)},
      {"sha256", a.sha256},
      {"contentUrl", file_url(a.path)},
      {"dateCreated", iso_utc(a.created)},
      {"prov:generatedAtTime", date_time(a.created)},
      {"prov:wasGeneratedBy", activity(a)},
      {"prov:wasDerivedFrom", refs(a.derived_from)},
  };
  if (!a.description.empty()) j["description"] = a.description;
  // A copy fetched from a site: the file there is its primary source.
  if (const std::string path = a.origin.value("path", ""); !path.empty()) {
    j["prov:hadPrimarySource"] = {
        {"@id", "sftp://" + escape(a.origin.value("host", ""), ":[]") + escape(path, "/")},
        {"@type", {"File", "prov:Entity"}},
        {"sha256", a.origin.value("sha256", "")}};
  }
  if (a.metadata.is_object()) {
    // Registration refused keys that collide with the ones above.
    for (const auto& [k, v] : a.metadata.items()) {
      if (!j.contains(k)) j[k] = v;
    }
  }
  return j;
}

}  // namespace flow::artifact
