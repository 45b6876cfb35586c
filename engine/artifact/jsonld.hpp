#pragma once
// The FAIR description of an artifact as one JSON-LD object: schema.org terms for the file
// (as RO-Crate uses them: `File` = schema:MediaObject, `sha256`, `contentSize`,
// `encodingFormat`, `identifier` as PropertyValues) and PROV-O for where it came from
// (`prov:wasGeneratedBy` the task's try, a `CreateAction` + `prov:Activity` whose
// `instrument` is the DAG (name and sha256) and whose `object` lists the run's params and
// the upstream artifacts; `prov:wasDerivedFrom` those artifacts). The task's own
// `metadata` keys are merged in at the top level. A dataset (kind.hpp) is also a
// schema:Dataset: "@type": ["File", "Dataset", "prov:Entity"]. docs/ARTIFACTS.md has a full
// example.
//
// Vocabulary: the inline @context names each schema.org term the record uses (and the
// schema.org properties a task's metadata commonly means, such as `license`, `keywords`,
// `author`); `@vocab` is flow's own namespace, so any other plain key (`epochs`,
// `features`, `hyperparameters`, a metric) expands to urn:flow:vocab:KEY, never to a
// schema.org term that does not exist.
//
// Ids are flow-local URNs (urn:flow:artifact:ID, urn:flow:run:RUN:task:T:try:N,
// urn:flow:dag:NAME:sha256:HASH): stable names, not resolvable addresses; the file's
// location is `contentUrl` (file://).

#include <nlohmann/json.hpp>
#include <string>

#include "engine/state/records.hpp"

namespace flow::artifact {

// The namespace of flow's own terms (the record's @vocab).
inline constexpr const char* kFlowVocab = "urn:flow:vocab:";

// "urn:flow:artifact:<id>"
std::string artifact_iri(const std::string& id);

// file:// URL of an absolute path, percent-encoded.
std::string file_url(const std::string& absolute_path);

nlohmann::json artifact_jsonld(const state::ArtifactRecord& a);

}  // namespace flow::artifact
