// SPDX-License-Identifier: Apache-2.0
// Helpers of the Local Network Access tests (lna.test.mjs): page servers on 127.0.0.1 that
// Chromium may be told to hold as public, a bare page running kunci.js, a page framing it, and
// the console messages a page logs.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

import { clientDir, kunciJsPath } from "./fixtures.mjs";

/**
 * The line Chromium logs for every WebSocket that fails, whoever opens it: the attempt itself,
 * not a check of kunci.js's. Every other console message is noise.
 */
export const WEBSOCKET_FAILURE =
  /^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/v1' failed: /;

/**
 * A bare page: kunci.js connected to `?agent=PORT` (retrying every `?retryMs=` ms, 200 by
 * default), the client as `window.kunci`, the module as `window.kunciModule`, every state it
 * reported in `window.kunciStates` ({state, cause, permission}).
 */
const CLIENT_PAGE = `<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>kunci.js</title>
<link rel="icon" href="data:,">
<script type="module">
import * as kunciModule from "./kunci.js";
const query = new URLSearchParams(location.search);
const port = Number(query.get("agent"));
const retryMs = Number(query.get("retryMs") ?? 200);
window.kunciStates = [];
window.kunciModule = kunciModule;
window.kunci = kunciModule.connect({ port, reconnect: { initialMs: retryMs, maxMs: retryMs } });
window.kunci.on("state", (d) =>
  window.kunciStates.push({ state: d.state, cause: d.cause, permission: d.permission }));
</script></head><body><p>kunci.js</p></body></html>
`;

/** A page that frames `?src=URL`, with `?allow=TOKENS` as the iframe's allow attribute. */
function framePage(query) {
  const src = query.get("src") ?? "";
  const allow = query.get("allow");
  const quoted = (text) => text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>frame</title>
<link rel="icon" href="data:,"></head>
<body><iframe src="${quoted(src)}"${allow === null ? "" : ` allow="${quoted(allow)}"`}></iframe>
</body></html>
`;
}

const FILES = {
  "/": [path.join(clientDir, "demo", "index.html"), "text/html; charset=utf-8"],
  "/demo.js": [path.join(clientDir, "demo", "demo.js"), "text/javascript; charset=utf-8"],
  "/demo.css": [path.join(clientDir, "demo", "demo.css"), "text/css; charset=utf-8"],
  "/kunci.js": [kunciJsPath, "text/javascript; charset=utf-8"],
};

/**
 * A page server on 127.0.0.1 (port 0): the demo page's files at `/`, `/client.html` and
 * `/frame.html` above. `origin` is `http://127.0.0.1:PORT`, `host` `127.0.0.1:PORT` (what
 * `--ip-address-space-overrides` names).
 */
export async function serveLnaPages() {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, "http://x");
    let body;
    let type = "text/html; charset=utf-8";
    if (url.pathname === "/client.html") {
      body = CLIENT_PAGE;
    } else if (url.pathname === "/frame.html") {
      body = framePage(url.searchParams);
    } else if (FILES[url.pathname]) {
      body = fs.readFileSync(FILES[url.pathname][0]);
      type = FILES[url.pathname][1];
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    response.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${server.address().port}`;
  return {
    host,
    origin: `http://${host}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Collects what `page` logs to the console (every type), as `{type, text}`. */
export function consoleOf(page) {
  const messages = [];
  page.on("console", (message) => messages.push({ type: message.type(), text: message.text() }));
  return messages;
}

/** The console messages that are not a WebSocket's own failure line. */
export function consoleNoise(messages) {
  return messages.filter((message) => !WEBSOCKET_FAILURE.test(message.text));
}
