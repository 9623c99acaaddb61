// SPDX-License-Identifier: Apache-2.0
// Fixtures for the page-side tests: a SoftHSM token in a temp dir, kunci-agent as a process, a
// throwaway CA made with the openssl command, and a `ws` WebSocket factory with an Origin.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import WebSocket from "ws";

const run = promisify(execFile);

export const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository's root (tests/browser/support/../../..). */
export const repoRoot = path.resolve(here, "..", "..", "..");
/** The page-side client under test and the demo page's folder. */
export const clientDir = path.join(repoRoot, "ipc", "client");
export const kunciJsPath = path.join(clientDir, "kunci.js");

export const USER_PIN = "123456";
export const SO_PIN = "12345678";
export const WRONG_PIN = "999999";

/** The agent binary: ctest sets KUNCI_AGENT to $<TARGET_FILE:kunci-agent>. */
export function agentPath() {
  const fromEnv = process.env.KUNCI_AGENT;
  const fallback = path.join(repoRoot, "build", "dev", "agent", "kunci-agent");
  const found = fromEnv || fallback;
  if (!fs.existsSync(found)) {
    throw new Error(`kunci-agent not found at ${found}: set KUNCI_AGENT (ctest does)`);
  }
  return found;
}

export function softHsmModule() {
  return process.env.KUNCI_SOFTHSM_MODULE || "/usr/lib/softhsm/libsofthsm2.so";
}

/** Where screenshots go: KUNCI_BROWSER_ARTIFACTS (set by ctest) or a temp dir. */
export function artifactsDir() {
  const dir =
    process.env.KUNCI_BROWSER_ARTIFACTS ||
    path.join(os.tmpdir(), "kunci-browser-artifacts");
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A temp dir removed by `remove()`. */
export function tempDir(prefix = "kunci-page-") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A test's workspace: a temp dir holding a SoftHSM token labelled `label` (in `hsm/`) and empty
 * `state/` (the agent's) and `ca/` (a TestCa's) folders.
 */
export async function tokenWorkspace(label) {
  const work = tempDir();
  const hsm = new SoftHsm(path.join(work.path, "hsm"));
  await hsm.createToken(label);
  fs.mkdirSync(path.join(work.path, "state"));
  fs.mkdirSync(path.join(work.path, "ca"));
  return { work, hsm };
}

/** A SoftHSM token store of its own (own SOFTHSM2_CONF), never the user's tokens. */
export class SoftHsm {
  constructor(dir) {
    this.dir = dir;
    this.tokenDir = path.join(dir, "tokens");
    this.conf = path.join(dir, "softhsm2.conf");
    fs.mkdirSync(this.tokenDir, { recursive: true });
    fs.writeFileSync(
      this.conf,
      `directories.tokendir = ${this.tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
  }

  env() {
    return { SOFTHSM2_CONF: this.conf };
  }

  async createToken(label, userPin = USER_PIN, soPin = SO_PIN) {
    // The command line holds PINs: on failure, report only what the tool said.
    try {
      await run(
        "softhsm2-util",
        ["--init-token", "--free", "--label", label, "--pin", userPin, "--so-pin", soPin],
        { env: { ...process.env, ...this.env() } },
      );
    } catch (error) {
      const said = `${error.stderr ?? ""}${error.stdout ?? ""}`;
      throw new Error(`softhsm2-util --init-token failed: ${said}`);
    }
  }
}

/** A loopback port nothing listens on (bound, then closed). */
export async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const LISTENING = /^kunci-agent listening on ws:\/\/127\.0\.0\.1:(\d+)\/v1$/;
const DEMO_URL = /^kunci-agent demo: open (http:\/\/\S+) in your browser$/;

/**
 * kunci-agent as a process. `start()` resolves once the listening line is read (and, with
 * `demo`, the demo URL line); stderr is kept in `stderr` and in `<dir>/agent.err`.
 */
export class AgentProcess {
  constructor({ args, env = {}, dir, demo = false }) {
    this.args = args;
    this.env = env;
    this.dir = dir;
    this.demo = demo;
    this.stderr = "";
    this.stdoutLines = [];
    this.port = 0;
    this.url = null;
    this.exited = null;
  }

  start() {
    const env = { ...process.env, ...this.env };
    // No native PIN prompt in tests, whatever session they run from.
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    this.child = spawn(agentPath(), this.args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const errFile = fs.createWriteStream(path.join(this.dir, "agent.err"), { flags: "a" });
    this.child.stderr.on("data", (chunk) => {
      this.stderr += chunk.toString();
      errFile.write(chunk);
    });
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        errFile.end();
        resolve({ code, signal });
      });
    });
    const lines = createInterface({ input: this.child.stdout });
    return new Promise((resolve, reject) => {
      const fail = (why) =>
        reject(new Error(`kunci-agent ${why}; stdout: ${this.stdoutLines.join(" | ")}; ` +
          `stderr:\n${this.stderr}`));
      this.exited.then(({ code, signal }) =>
        fail(`exited (${code ?? signal}) before it was ready`));
      lines.on("line", (line) => {
        this.stdoutLines.push(line);
        const listening = LISTENING.exec(line);
        if (listening) {
          this.port = Number(listening[1]);
          if (!this.demo) {
            resolve(this);
          }
          return;
        }
        const demoUrl = DEMO_URL.exec(line);
        if (demoUrl && this.demo) {
          this.url = demoUrl[1];
          resolve(this);
        }
      });
    });
  }

  /** Resolves once stderr holds a line matching `pattern` (no polling: on each chunk). */
  waitForLog(pattern) {
    if (pattern.test(this.stderr)) {
      return Promise.resolve(this.stderr);
    }
    return new Promise((resolve) => {
      const onData = () => {
        if (pattern.test(this.stderr)) {
          this.child.stderr.off("data", onData);
          resolve(this.stderr);
        }
      };
      this.child.stderr.on("data", onData);
    });
  }

  async stop() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
    }
    return this.exited;
  }
}

/**
 * Starts a plain agent on the SoftHSM store: loopback port 0, the given origins. With
 * `faultPlan`, through the fault-injecting module (tests/faultmodule, docs/faults.md) with that
 * plan, written in `dir`, its `module` SoftHSM's.
 */
export async function startAgent({ hsm, stateDir, origins, extraArgs = [], dir, faultPlan }) {
  const env = hsm.env();
  let module = softHsmModule();
  if (faultPlan) {
    const planFile = path.join(dir, "fault-plan.json");
    fs.writeFileSync(planFile, JSON.stringify({ module, ...faultPlan }));
    module = faultModule();
    env.KUNCI_FAULT_PLAN = planFile;
  }
  const args = ["--module", module, "--listen", "127.0.0.1:0", "--state-dir", stateDir];
  for (const origin of origins) {
    args.push("--allow-origin", origin);
  }
  args.push("--no-pinentry", "--expiry-warning-days", "0", ...extraArgs);
  return new AgentProcess({ args, env, dir }).start();
}

/** The fault-injecting PKCS#11 module: ctest sets KUNCI_FAULTMODULE to its built file. */
export function faultModule() {
  const found = process.env.KUNCI_FAULTMODULE ||
    path.join(repoRoot, "build", "dev", "tests", "faultmodule", "libkunci_faultmodule.so");
  if (!fs.existsSync(found)) {
    throw new Error(`the fault module is not at ${found}: set KUNCI_FAULTMODULE (ctest does)`);
  }
  return found;
}

/** Starts `kunci-agent --demo` with its own state dir (the demo makes its own token there). */
export async function startDemoAgent({ stateDir, dir }) {
  const args = ["--demo", "--listen", "127.0.0.1:0", "--state-dir", stateDir, "--no-pinentry",
    "--expiry-warning-days", "0"];
  // The demo uses its own SoftHSM configuration in its state dir, never the caller's.
  const env = { SOFTHSM2_CONF: path.join(dir, "not-the-demo-softhsm2.conf") };
  return new AgentProcess({ args, env, dir, demo: true }).start();
}

/** A `createWebSocket` for kunci.js in Node: the `ws` package, sending `origin`. */
export function wsFactory(origin) {
  return (url) => new WebSocket(url, { origin });
}

/** A throwaway CA (EC P-256, self-signed) that signs CSRs with the openssl command. */
export class TestCa {
  constructor(dir) {
    this.dir = dir;
    this.key = path.join(dir, "ca.key");
    this.cert = path.join(dir, "ca.pem");
    this.serial = 1;
  }

  async create(cn = "Kunci Test CA") {
    await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
      "-nodes", "-keyout", this.key, "-out", this.cert, "-days", "30", "-subj", `/CN=${cn}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
    this.pem = fs.readFileSync(this.cert, "utf8");
    return this;
  }

  /** Signs `csrPem` for `days` days; returns the certificate's PEM. */
  async issue(csrPem, days = 365) {
    const n = this.serial++;
    const csr = path.join(this.dir, `req-${n}.csr`);
    const out = path.join(this.dir, `cert-${n}.pem`);
    fs.writeFileSync(csr, csrPem);
    await run("openssl", ["x509", "-req", "-in", csr, "-CA", this.cert, "-CAkey", this.key,
      "-set_serial", String(1000 + n), "-days", String(days), "-out", out]);
    return fs.readFileSync(out, "utf8");
  }
}

/** Resolves with the arguments of the next `event` for which `predicate` holds. */
export function nextEvent(client, event, predicate = () => true) {
  return new Promise((resolve) => {
    const off = client.on(event, (...args) => {
      if (predicate(...args)) {
        off();
        resolve(args.length <= 1 ? args[0] : args);
      }
    });
  });
}

/** Every file under `dir` whose bytes contain `needle`. */
export function filesContaining(dir, needle) {
  const found = [];
  const walk = (current) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.isFile() && fs.readFileSync(full).includes(needle)) {
        found.push(full);
      }
    }
  };
  walk(dir);
  return found;
}

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/**
 * A tiny static server on 127.0.0.1 (port 0) serving the page files flat, as the agent's demo
 * mode does: `/` (demo/index.html), `/kunci.js`, `/demo.js`, `/demo.css`; 404 otherwise. Its
 * origin is not one the agent allows, unless the test says so.
 */
export async function servePageFiles() {
  const files = {
    "/": path.join(clientDir, "demo", "index.html"),
    "/kunci.js": kunciJsPath,
    "/demo.js": path.join(clientDir, "demo", "demo.js"),
    "/demo.css": path.join(clientDir, "demo", "demo.css"),
  };
  const server = http.createServer((request, response) => {
    const file = files[new URL(request.url, "http://x").pathname];
    if (request.method !== "GET" || !file) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    const type = CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream";
    response.writeHead(200, { "content-type": type, "cache-control": "no-store" });
    response.end(fs.readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Launches Debian's Chromium headless with a fresh profile, as the issue asks. */
export async function launchChromium(profileDir, extraArgs = []) {
  const { chromium } = await import("playwright-core");
  return chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.KUNCI_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1366, height: 768 },
    locale: "id-ID",
    timezoneId: "Asia/Jakarta",
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      ...extraArgs,
    ],
  });
}
