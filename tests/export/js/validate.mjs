// Validate a .glb with the Khronos glTF validator; print the report as JSON on stdout.
// Usage: node validate.mjs FILE.glb
import { readFile } from "node:fs/promises";
import validator from "gltf-validator";

const file = process.argv[2];
const data = new Uint8Array(await readFile(file));
const report = await validator.validateBytes(data, { maxIssues: 100 });
process.stdout.write(JSON.stringify(report, null, 1));
