// Runs an ONNX model with ONNX Runtime (the npm package onnxruntime-node, CPU execution
// provider): a runtime that shares no code with PyTorch, so export_onnx.py can check that
// the exported file computes what the trained model computes.
//
//   node onnx_runtime.js MODEL.onnx REQUEST.json
//
// REQUEST.json: {"input": NAME, "shape": [rows, features], "data": [row-major float32...]}.
// Prints one JSON object on stdout:
//   {"runtime": "onnxruntime-node", "version": "1.30.0", "output": NAME,
//    "shape": [...], "data": [...]}
// The package is looked for in $FLOW_ONNXRUNTIME_NODE (a node_modules folder that holds
// onnxruntime-node), then in the repository's .deps/onnxruntime-node/node_modules (where
// scripts/install-deps.sh puts it). Exit 3 when it is not installed, 1 on any other error.
"use strict";
const fs = require("fs");
const path = require("path");

function findRuntime() {
  const places = [];
  if (process.env.FLOW_ONNXRUNTIME_NODE) places.push(process.env.FLOW_ONNXRUNTIME_NODE);
  places.push(path.join(__dirname, "..", "..", ".deps", "onnxruntime-node", "node_modules"));
  for (const dir of places) {
    const pkg = path.join(dir, "onnxruntime-node");
    if (fs.existsSync(path.join(pkg, "package.json"))) {
      const version = JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8")).version;
      return { ort: require(pkg), version };
    }
  }
  process.stderr.write("onnxruntime-node is not installed (looked in " + places.join(", ") +
                       "); scripts/install-deps.sh installs it, or set FLOW_ONNXRUNTIME_NODE " +
                       "to a node_modules folder that holds it\n");
  process.exit(3);
}

async function main() {
  const [model, requestFile] = process.argv.slice(2);
  if (!model || !requestFile) {
    process.stderr.write("usage: node onnx_runtime.js MODEL.onnx REQUEST.json\n");
    process.exit(1);
  }
  const { ort, version } = findRuntime();
  const request = JSON.parse(fs.readFileSync(requestFile, "utf8"));
  const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"] });
  const input = new ort.Tensor("float32", Float32Array.from(request.data), request.shape);
  const results = await session.run({ [request.input]: input });
  const name = session.outputNames[0];
  const out = results[name];
  process.stdout.write(JSON.stringify({ runtime: "onnxruntime-node", version, output: name,
                                        shape: out.dims, data: Array.from(out.data) }) + "\n");
}

main().catch((e) => {
  process.stderr.write("onnxruntime-node: " + (e && e.message ? e.message : String(e)) + "\n");
  process.exit(1);
});
