#!/usr/bin/env python3
"""Reads one artifact's JSON-LD record (a file, or - for stdin) with two JSON-LD processors,
PyLD (expansion to RDF) and rdflib, and prints as JSON what they understood: every
predicate IRI and every rdf:type IRI (sorted), what the record's node prov:wasDerivedFrom
(IRIs, sorted), and how many triples each read. The test
then checks the record means exactly the terms flow meant (docs/ARTIFACTS.md).

Run with Debian's /usr/bin/python3 (python3-pyld, python3-rdflib)."""
import json
import sys

from pyld import jsonld
import rdflib

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"


def main():
    text = sys.stdin.read() if sys.argv[1] == "-" else open(sys.argv[1]).read()
    doc = json.loads(text)
    dataset = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    g_pyld = rdflib.Graph()
    g_pyld.parse(data=dataset, format="nquads")
    g_rdflib = rdflib.Graph()
    g_rdflib.parse(data=text, format="json-ld")
    predicates = sorted({str(p) for _, p, _ in g_pyld})
    types = sorted({str(o) for _, p, o in g_pyld if str(p) == RDF_TYPE})
    rdflib_predicates = sorted({str(p) for _, p, _ in g_rdflib})
    # What the record's own node was derived from, as IRIs.
    derived_from = sorted({str(o) for s, p, o in g_pyld
                           if str(s) == doc.get("@id") and str(p) == DERIVED})
    print(json.dumps({"predicates": predicates, "types": types, "derived_from": derived_from,
                      "pyld_triples": len(g_pyld), "rdflib_triples": len(g_rdflib),
                      "rdflib_predicates": rdflib_predicates}))


if __name__ == "__main__":
    main()
