// SPDX-License-Identifier: Apache-2.0
// kunci.d.ts against TypeScript code an AMS developer would write: the typed usage compiles
// under --strict, and the mistakes in misuse.ts are each reported.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { here } from "./support/fixtures.mjs";

const run = promisify(execFile);
const tsc = path.join(here, "..", "node_modules", "typescript", "bin", "tsc");
const flags = ["--noEmit", "--strict", "--target", "es2022", "--module", "es2022",
  "--moduleResolution", "bundler", "--lib", "es2022,dom"];

async function compile(file) {
  try {
    const { stdout } = await run(process.execPath, [tsc, ...flags, file], { cwd: here });
    return { code: 0, output: stdout };
  } catch (error) {
    return { code: error.code, output: `${error.stdout}${error.stderr}` };
  }
}

test("kuncidts_typedUsage_compilesStrict", async () => {
  const result = await compile(path.join(here, "..", "types", "usage.ts"));
  assert.equal(result.code, 0, result.output);
});

test("kuncidts_misuse_eachMistakeReported", async () => {
  const result = await compile(path.join(here, "..", "types", "misuse.ts"));
  assert.notEqual(result.code, 0);
  const lines = [...result.output.matchAll(/misuse\.ts\((\d+),\d+\): error/g)].map((m) => m[1]);
  const reported = [...new Set(lines)].map(Number).sort((a, b) => a - b);
  assert.deepEqual(reported, [6, 8, 10, 12], result.output);
});
