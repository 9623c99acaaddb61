// SPDX-License-Identifier: Apache-2.0
// Unit tests of ipc/client/kunci.js in Node, against kunci-agent running on a SoftHSM token
// (and, for what an agent cannot be made to do on demand, a stand-in WebSocket server).
// Run: KUNCI_AGENT=build/dev/agent/kunci-agent node --test tests/browser/kunci_client.test.mjs
import assert from "node:assert/strict";
import { createHash, createPublicKey, verify } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { WebSocketServer } from "ws";

import {
  KNOWN_REASONS,
  KunciError,
  connect,
  holderMessage,
  signingCode,
  toBase64,
  tokenKeyTypes,
} from "../../ipc/client/kunci.js";
import {
  TestCa,
  USER_PIN,
  WRONG_PIN,
  closedPort,
  filesContaining,
  nextEvent,
  repoRoot,
  startAgent,
  tokenWorkspace,
  wsFactory,
} from "./support/fixtures.mjs";

const ORIGIN = "https://ams.example.id";
const TOKEN_LABEL = "Token Uji Kunci";

/** A client of the test agent; closed by the test's `after`. */
function client(port, options = {}) {
  return connect({ port, createWebSocket: wsFactory(ORIGIN), ...options });
}

/** Asserts that `promise` rejects with a KunciError of `reason`; returns the error. */
async function rejectsWith(promise, reason) {
  let caught;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof KunciError, `expected a KunciError, got ${caught}`);
  assert.equal(caught.reason, reason, `${caught.message} (${JSON.stringify(caught.data)})`);
  return caught;
}

/** Globals a browser has and Node 20 lacks, set for one test. */
function withBrowserGlobals(globals, body) {
  const saved = {};
  for (const [name, value] of Object.entries(globals)) {
    saved[name] = Object.getOwnPropertyDescriptor(globalThis, name);
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const restore = () => {
    for (const [name, descriptor] of Object.entries(saved)) {
      if (descriptor) {
        Object.defineProperty(globalThis, name, descriptor);
      } else {
        delete globalThis[name];
      }
    }
  };
  return Promise.resolve().then(body).finally(restore);
}

/** A `navigator` whose loopback permission reads `state`. */
function withPermission(state) {
  return { permissions: { query: async () => ({ state }) } };
}

/** The detail of the first `event` of a client of a closed port, under browser `globals`. */
async function firstDetail(globals, event) {
  const port = await closedPort();
  return withBrowserGlobals(globals, async () => {
    const kunci = client(port, { reconnect: false });
    try {
      return await nextEvent(kunci, event);
    } finally {
      kunci.close();
    }
  });
}

describe("kunci.js without an agent", () => {
  test("connect_agentNotRunning_reportsAgentUnavailableNotRunningWithInstallLink", async () => {
    const port = await closedPort();
    const kunci = client(port, { installUrl: "https://ams.example.id/pasang-kunci" });
    try {
      const detail = await nextEvent(kunci, "agent-unavailable");
      assert.equal(detail.cause, "not-running");
      assert.equal(detail.installUrl, "https://ams.example.id/pasang-kunci");
      assert.match(detail.message.id, /tidak berjalan atau belum terpasang/);
      assert.match(detail.message.en, /not running or not installed/);
      assert.equal(kunci.state, "agent-unavailable");
      assert.ok(detail.retryInMs > 0, "a retry is scheduled");
      await rejectsWith(kunci.listTokens(), "agent-unavailable");
      await rejectsWith(kunci.ready(), "agent-unavailable");
    } finally {
      kunci.close();
    }
  });

  test("connect_permissionDeniedOnPublicPage_reportsBlocked", async () => {
    const port = await closedPort();
    const denied = { permissions: { query: async () => ({ state: "denied" }) } };
    await withBrowserGlobals(
      { navigator: denied, location: { hostname: "ams.example.id" } },
      async () => {
        const kunci = client(port);
        try {
          const detail = await nextEvent(kunci, "blocked");
          assert.equal(detail.cause, "permission-denied");
          assert.equal(detail.permission, "denied");
          assert.match(detail.message.id, /Browser memblokir/);
          assert.match(detail.message.en, /Access other apps and services on this device/);
          assert.match(detail.message.en, /Allow while visiting the site/);
          await rejectsWith(kunci.agentInfo(), "blocked");
        } finally {
          kunci.close();
        }
      },
    );
  });

  test("connect_permissionTurnsDeniedDuringAttempt_reportsBlockedWhateverTheHostName", async () => {
    // Chromium asked (the permission was at "prompt") and was refused: blocked, also for a
    // page whose own host is 127.0.0.1 (the browser may hold it to be public).
    let reads = 0;
    const askedThenDenied = {
      permissions: { query: async () => ({ state: reads++ === 0 ? "prompt" : "denied" }) },
    };
    const detail = await firstDetail(
      { navigator: askedThenDenied, location: { hostname: "127.0.0.1" } },
      "blocked",
    );
    assert.equal(detail.cause, "permission-denied");
    assert.equal(detail.permission, "denied");
  });

  test("connect_permissionStaysAtPrompt_reportsNotRunning", async () => {
    // The browser did not ask (a page it does not gate): the failure is the agent's absence.
    const detail = await firstDetail({ navigator: withPermission("prompt") }, "agent-unavailable");
    assert.equal(detail.cause, "not-running");
    assert.equal(detail.permission, "prompt");
  });

  test("connect_permissionDeniedOnNonSecurePage_notTakenAsBlocked", async () => {
    // Chromium reads "denied" on every non-secure page, whether it gates it or not.
    const detail = await firstDetail(
      { navigator: withPermission("denied"), isSecureContext: false },
      "agent-unavailable",
    );
    assert.equal(detail.cause, "not-running");
    assert.equal(detail.permission, "denied");
  });

  test("connect_noProbeByDefault_noRequestOfItsOwn", async () => {
    let probed = false;
    const fetch = async () => {
      probed = true;
      return {};
    };
    const detail = await firstDetail(
      { navigator: withPermission("granted"), fetch },
      "agent-unavailable",
    );
    assert.equal(detail.cause, "not-running");
    assert.equal(detail.permission, "granted");
    assert.equal(probed, false, "nothing the browser would log");
  });

  test("connect_permissionAtPrompt_doesNotProbeAndSaysNotRunning", async () => {
    const port = await closedPort();
    let probed = false;
    const prompt = { permissions: { query: async () => ({ state: "prompt" }) } };
    await withBrowserGlobals(
      {
        navigator: prompt,
        location: { hostname: "ams.example.id" },
        fetch: async () => {
          probed = true;
          return {};
        },
      },
      async () => {
        const kunci = client(port, { probe: true });
        try {
          const detail = await nextEvent(kunci, "agent-unavailable");
          assert.equal(detail.permission, "prompt");
          assert.equal(detail.cause, "not-running");
          assert.equal(probed, false, "no probe that could raise a prompt of its own");
        } finally {
          kunci.close();
        }
      },
    );
  });

  test("connect_somethingAnswersHttpButRefusesUpgrade_reportsRefused", async () => {
    // A plain HTTP server on the port: the probe gets an answer, the WebSocket a 403.
    const server = http.createServer((request, response) => {
      response.writeHead(request.headers.upgrade ? 403 : 404).end();
    });
    server.on("upgrade", (request, socket) => {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const kunci = client(server.address().port, { probe: true });
    try {
      const detail = await nextEvent(kunci, "agent-unavailable");
      assert.equal(detail.cause, "refused");
      assert.match(detail.message.id, /menolak halaman ini/);
      assert.match(detail.message.en, /refused this page/);
    } finally {
      kunci.close();
      server.close();
    }
  });

  test("connect_permissionDeniedButAgentAnswersHttp_reportsRefusedNotBlocked", async () => {
    // Chromium reports "denied" on pages where it does not enforce the permission: what the
    // probe reaches is not blocked, so the WebSocket's failure was the agent's refusal.
    const server = http.createServer((request, response) => response.writeHead(404).end());
    server.on("upgrade", (request, socket) => {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const denied = { permissions: { query: async () => ({ state: "denied" }) } };
    try {
      await withBrowserGlobals(
        { navigator: denied, location: { hostname: "ams.example.id" } },
        async () => {
          const kunci = client(server.address().port, { probe: true });
          try {
            const detail = await nextEvent(kunci, "agent-unavailable");
            assert.equal(detail.cause, "refused");
            assert.equal(detail.permission, "denied");
          } finally {
            kunci.close();
          }
        },
      );
    } finally {
      server.close();
    }
  });

  test("close_pendingCall_rejectsClosedAndStopsReconnecting", async () => {
    const port = await closedPort();
    const kunci = connect({ port, createWebSocket: wsFactory(ORIGIN) });
    const pending = kunci.listTokens(); // queued while connecting
    const closed = nextEvent(kunci, "closed");
    kunci.close();
    await rejectsWith(pending, "closed");
    assert.equal((await closed).state, "closed");
    await rejectsWith(kunci.ready(), "closed");
    await rejectsWith(kunci.agentInfo(), "closed");
  });
});

describe("kunci.js against a stand-in server", () => {
  /** A WebSocket server whose answers each test decides. */
  let server;
  let port;
  let onMessage = () => {};
  before(async () => {
    server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/v1" });
    await new Promise((resolve) => server.on("listening", resolve));
    port = server.address().port;
    server.on("connection", (socket) => {
      socket.on("message", (data) => onMessage(socket, JSON.parse(data.toString())));
    });
  });
  after(() => server.close());

  test("call_noAnswer_rejectsTimeoutNamingTheMethod", async () => {
    onMessage = () => {}; // never answers
    const kunci = client(port, { timeouts: { "tokens.list": 50 } });
    try {
      await kunci.ready();
      const error = await rejectsWith(kunci.listTokens(), "timeout");
      assert.equal(error.code, null);
      assert.equal(error.method, "tokens.list");
      assert.equal(error.data.timeoutMs, 50);
      assert.match(holderMessage(error).id, /tidak menjawab tepat waktu/);
      assert.equal(kunci.state, "open", "a time-out does not drop the connection");
    } finally {
      kunci.close();
    }
  });

  test("call_connectionDropsBeforeAnswer_rejectsConnectionLostThenReconnects", async () => {
    onMessage = (socket, message) => {
      if (message.method === "renewal.begin") {
        socket.terminate();
      } else {
        socket.send(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { tokens: [] } }));
      }
    };
    const kunci = client(port, { reconnect: { initialMs: 10, maxMs: 50 } });
    try {
      await kunci.ready();
      const reconnecting = nextEvent(kunci, "connecting", (detail) => detail.reconnecting);
      const reopened = nextEvent(kunci, "open");
      const error = await rejectsWith(
        kunci.beginRenewal({ token: "t1", key: { type: "ec", curve: "P-256" }, subject: {} }),
        "connection-lost",
      );
      assert.equal(error.method, "renewal.begin");
      assert.match(holderMessage(error).en, /may have finished/);
      assert.equal((await reconnecting).reconnecting, true);
      await reopened;
      assert.deepEqual(await kunci.listTokens(), []);
    } finally {
      kunci.close();
    }
  });

  test("connect_holderAllowsAfterBlocked_retriesAtOnceAndOpens", async () => {
    // Blocked until the holder allows it: the permission's change event, not the back-off
    // (10 minutes here), makes the next attempt.
    const status = new EventTarget();
    status.state = "denied";
    const closed = await closedPort();
    let allowed = false;
    const reachAgent = wsFactory(ORIGIN);
    const navigator = { permissions: { query: async () => status } };
    await withBrowserGlobals({ navigator }, async () => {
      const kunci = connect({
        port,
        reconnect: { initialMs: 600_000, maxMs: 600_000 },
        createWebSocket: (url) =>
          reachAgent(allowed ? url : url.replace(`:${port}/`, `:${closed}/`)),
      });
      try {
        assert.equal((await nextEvent(kunci, "blocked")).cause, "permission-denied");
        const opened = nextEvent(kunci, "open");
        allowed = true;
        status.state = "granted";
        status.dispatchEvent(new Event("change"));
        await opened;
        assert.equal(kunci.state, "open");
      } finally {
        kunci.close();
      }
    });
  });

  test("connect_openedWithoutGrantThenAgentStops_reportsAgentUnavailableNotBlocked", async () => {
    // A page the browser does not gate (Chromium 156, a page on loopback) may read "denied":
    // once a connection opened so, a later failure is the agent's, never the browser's.
    const denied = { permissions: { query: async () => ({ state: "denied" }) } };
    const stopping = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/v1" });
    await new Promise((resolve) => stopping.on("listening", resolve));
    await withBrowserGlobals({ navigator: denied }, async () => {
      const kunci = client(stopping.address().port, { reconnect: { initialMs: 10, maxMs: 50 } });
      try {
        await kunci.ready();
        const unavailable = nextEvent(kunci, "agent-unavailable");
        for (const socket of stopping.clients) {
          socket.terminate();
        }
        await new Promise((resolve) => stopping.close(resolve));
        const detail = await unavailable;
        assert.equal(detail.cause, "not-running");
        assert.equal(detail.permission, "denied");
      } finally {
        kunci.close();
      }
    });
  });

  test("call_callsMadeWhileConnecting_areSentOnceOpen", async () => {
    onMessage = (socket, message) =>
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { renewals: [] } }));
    const kunci = client(port);
    try {
      assert.equal(kunci.state, "connecting");
      assert.deepEqual(await kunci.listRenewals(), []);
    } finally {
      kunci.close();
    }
  });

  test("on_notificationsAndLateAnswers_tokensChangedDeliveredOthersIgnored", async () => {
    const tokens = [{ id: "t1", label: "Budi" }];
    onMessage = (socket, message) => {
      // A notification, an answer to nobody, garbage, then the answer.
      socket.send(JSON.stringify({ jsonrpc: "2.0", method: "tokens.changed", params: { tokens } }));
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: 9999, result: {} }));
      socket.send("not json");
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { tokens: [] } }));
    };
    const kunci = client(port);
    try {
      const changed = nextEvent(kunci, "tokens.changed");
      const notification = nextEvent(kunci, "notification");
      assert.deepEqual(await kunci.listTokens(), []);
      assert.deepEqual(await changed, [tokens, { tokens }]);
      assert.equal((await notification)[0], "tokens.changed");
    } finally {
      kunci.close();
    }
  });

  test("sign_bytes_sentAsBase64", async () => {
    let received;
    onMessage = (socket, message) => {
      received = message;
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: message.id,
        result: { signature: "AA==", algorithm: "ECDSA" } }));
    };
    const kunci = client(port);
    try {
      const digest = createHash("sha256").update("surat").digest();
      await kunci.sign({ token: "t1", keyId: "ab", digest: new Uint8Array(digest), pin: "1" });
      assert.equal(received.method, "signature.sign");
      assert.equal(received.params.digest, digest.toString("base64"));
      assert.equal("data" in received.params, false, "undefined members are not sent");
    } finally {
      kunci.close();
    }
  });

  test("listener_throws_clientKeepsWorking", async () => {
    onMessage = (socket, message) =>
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { tokens: [] } }));
    let reported;
    const kunci = client(port, { onListenerError: (error) => (reported = error) });
    kunci.on("open", () => {
      throw new Error("a page bug");
    });
    try {
      assert.deepEqual(await kunci.listTokens(), []);
      assert.equal(reported?.message, "a page bug", "reported out of band");
    } finally {
      kunci.close();
    }
  });
});

describe("holderMessage", () => {
  test("holderMessage_everyProtocolReason_hasOwnWordsInBothLanguages", () => {
    const reasons = [
      "token-not-found", "token-removed", "pin-required", "pin-incorrect", "pin-locked",
      "pin-final-try", "user-cancelled", "mechanism-unsupported", "token-full",
      "token-write-protected", "renewal-not-found", "renewal-state", "certificate-invalid",
      "certificate-mismatch", "busy", "key-not-found", "token-error", "grant-required",
      "grant-invalid",
    ];
    // The contract's table, where the spec is checked out beside the repository.
    const spec = path.join(repoRoot, "..", "shared", "spec", "protocol.md");
    if (fs.existsSync(spec)) {
      // Section 3's reasons table only: section 8's table of grant claims has the same shape.
      const text = fs.readFileSync(spec, "utf8");
      const messages = text.slice(text.indexOf("\n## 3."), text.indexOf("\n## 4."));
      const table = [...messages.matchAll(/^\| `([a-z-]+)` \|/gm)];
      assert.ok(table.length >= reasons.length);
      for (const [, reason] of table) {
        assert.ok(reasons.includes(reason), `protocol.md lists ${reason}: add it here`);
      }
    }
    const generic = holderMessage("no-such-reason");
    for (const reason of reasons) {
      assert.ok(KNOWN_REASONS.includes(reason), reason);
      const words = holderMessage({ reason, data: {} });
      assert.ok(words.id.length > 20 && words.en.length > 20, reason);
      assert.notEqual(words.id, words.en, reason);
      assert.notEqual(words.id, generic.id.replace("no-such-reason", reason), reason);
    }
  });

  test("holderMessage_pinIncorrectFinalTry_warnsOfLock", () => {
    const words = holderMessage({ reason: "pin-incorrect", data: { pinFinalTry: true } });
    assert.match(words.id, /terkunci/);
    assert.match(words.en, /locks/);
  });

  test("holderMessage_pinIncorrectCountLow_calmAsAnyWrongPin", () => {
    // SoftHSM sets "count low" after a single wrong PIN: the holder reads no alarm then.
    const countLow = holderMessage({ reason: "pin-incorrect",
      data: { pinCountLow: true, pinFinalTry: false } });
    const plain = holderMessage({ reason: "pin-incorrect", data: {} });
    assert.deepEqual(countLow, plain);
    assert.doesNotMatch(countLow.en, /few|locks/i);
  });

  test("holderMessage_unknownReason_namesIt", () => {
    const words = holderMessage("reason-from-the-future");
    assert.match(words.id, /reason-from-the-future/);
    assert.match(words.en, /reason-from-the-future/);
  });

  test("signingCode_knownVectors_firstEightBytesInFourGroups", async () => {
    // The issue's example digest (a SHA-256 starting 0108471441b7507e).
    const digest = Buffer.from(
      "0108471441b7507e" + "00112233445566778899aabbccddeeff" + "0123456789abcdef",
      "hex",
    );
    const expected = "0108 4714 41b7 507e";
    assert.equal(await signingCode({ digest: digest.toString("base64") }), expected);
    assert.equal(await signingCode({ digest: new Uint8Array(digest) }), expected);
    const copy = new Uint8Array(digest);
    assert.equal(await signingCode({ digest: copy.buffer }), expected);
    // The agent's own vectors (tests/unit/agent/prompt_text_test.cpp, SigningCodeTest).
    assert.equal(await signingCode({ digest: Buffer.from("0108471441b7507eff", "hex") }), expected);
    // A view into a larger buffer: only its own bytes count.
    const framed = new Uint8Array(40);
    framed.set(digest, 8);
    assert.equal(await signingCode({ digest: framed.subarray(8) }), expected);
    // `data` is hashed with SHA-256 first: SHA-256("abc") = ba7816bf8f01cfea..., and of "".
    const abc = new TextEncoder().encode("abc");
    assert.equal(await signingCode({ data: abc }), "ba78 16bf 8f01 cfea");
    assert.equal(await signingCode({ data: "YWJj" }), "ba78 16bf 8f01 cfea");
    assert.equal(await signingCode({ data: new Uint8Array(0) }), "e3b0 c442 98fc 1c14");
  });

  test("signingCode_sameAsTheDigestTheAgentIsSent", async () => {
    // What sign() sends for `data` is hashed by the agent with SHA-256: the same bytes here.
    const data = new TextEncoder().encode("Surat Keputusan 12/2026");
    const sha256 = createHash("sha256").update(data).digest("hex");
    const grouped = sha256.slice(0, 16).match(/.{4}/g).join(" ");
    assert.equal(await signingCode({ data }), grouped);
    assert.equal(await signingCode({ digest: Buffer.from(sha256, "hex") }), grouped);
  });

  test("signingCode_badParams_rejectTypeError", async () => {
    await assert.rejects(signingCode({}), TypeError);
    await assert.rejects(signingCode({ digest: "AAAA", data: "AAAA" }), TypeError);
    await assert.rejects(signingCode({ digest: new Uint8Array(7) }), TypeError);
    await assert.rejects(signingCode({ digest: 42 }), TypeError);
  });

  test("toBase64_bytesAndStrings", () => {
    assert.equal(toBase64(new Uint8Array([1, 2, 255]).buffer), "AQL/");
    assert.equal(toBase64("AQL/"), "AQL/");
    assert.throws(() => toBase64(42), TypeError);
  });
});

describe("kunci.js against kunci-agent on SoftHSM", () => {
  let work;
  let hsm;
  let agent;
  let ca;
  let kunci;
  let tokenId;

  before(async () => {
    ({ work, hsm } = await tokenWorkspace(TOKEN_LABEL));
    ca = await new TestCa(path.join(work.path, "ca")).create();
    agent = await startAgent({
      hsm,
      stateDir: path.join(work.path, "state"),
      origins: [ORIGIN],
      dir: work.path,
    });
    kunci = client(agent.port);
    await kunci.ready();
    tokenId = (await kunci.listTokens()).find((token) => token.label === TOKEN_LABEL)?.id;
  });

  after(async () => {
    kunci?.close();
    const exit = await agent?.stop();
    try {
      assert.deepEqual(exit, { code: 0, signal: null }, "the agent exits 0 on SIGTERM");
      assert.deepEqual(filesContaining(path.join(work.path, "state"), USER_PIN), []);
      assert.ok(!agent.stderr.includes(USER_PIN), "no PIN in the agent's log");
      assert.ok(!agent.stderr.includes(WRONG_PIN), "no PIN in the agent's log");
    } finally {
      work?.remove();
    }
  });

  test("connect_originNotAllowed_reportsRefusedAndAgentLogsIt", async () => {
    const stranger = connect({
      port: agent.port,
      createWebSocket: wsFactory("https://evil.example"),
      probe: true,
    });
    try {
      const detail = await nextEvent(stranger, "agent-unavailable");
      assert.equal(detail.cause, "refused");
      await agent.waitForLog(/refused with 403 \(Origin https:\/\/evil\.example is not allowed\)/);
    } finally {
      stranger.close();
    }
  });

  test("call_unknownMethod_rejectsMethodNotFound", async () => {
    const error = await rejectsWith(kunci.call("demo.issue", { csr: "x" }), "method-not-found");
    assert.equal(error.code, -32601);
  });

  test("listCertificates_noToken_rejectsInvalidParamsNamingField", async () => {
    const error = await rejectsWith(kunci.listCertificates({}), "invalid-params");
    assert.equal(error.code, -32602);
    assert.equal(error.data.field, "token");
    assert.match(holderMessage(error).en, /field token/);
  });

  test("listCertificates_unknownToken_rejectsTokenNotFound", async () => {
    const error = await rejectsWith(kunci.listCertificates({ token: "t-nope" }), "token-not-found");
    assert.equal(error.code, -32000);
  });

  test("beginRenewal_noPinNoPrompt_rejectsPinRequired", async () => {
    await rejectsWith(
      kunci.beginRenewal({ token: tokenId, key: { type: "ec", curve: "P-256" },
        subject: { CN: "Siti" } }),
      "pin-required",
    );
  });

  test("beginRenewal_wrongPin_rejectsPinIncorrectAndChangesNothing", async () => {
    const error = await rejectsWith(
      kunci.beginRenewal({ token: tokenId, key: { type: "ec", curve: "P-256" },
        subject: { CN: "Siti" }, pin: WRONG_PIN }),
      "pin-incorrect",
    );
    assert.equal(typeof error.data.pinCountLow, "boolean");
    assert.ok(!error.message.includes(WRONG_PIN), "no PIN in the error");
    assert.deepEqual(await kunci.listRenewals(), []);
  });

  test("call_requestOver1MiB_rejectsWithoutSendingAndConnectionStays", async () => {
    await rejectsWith(
      kunci.sign({ token: tokenId, keyId: "00", data: "A".repeat(1024 * 1024 + 1) }),
      "message-too-large",
    );
    assert.equal(kunci.state, "open");
    assert.equal((await kunci.agentInfo()).protocol, 1);
  });

  test("agentInfo_protocol1WithKeyTypes", async () => {
    const info = await kunci.agentInfo();
    assert.equal(info.name, "kunci-agent");
    assert.equal(info.protocol, 1);
    assert.ok(info.keyTypes.some((key) => key.type === "ec" && key.curve === "P-256"));
  });

  test("listTokens_softhsmToken_keyTypesAreAgentInfos", async () => {
    const token = (await kunci.listTokens()).find((entry) => entry.label === TOKEN_LABEL);
    const info = await kunci.agentInfo();
    assert.equal(info.keyTypes.length, 5, "SoftHSM makes every key the agent does");
    assert.deepEqual(token.keyTypes, info.keyTypes);
    assert.deepEqual(tokenKeyTypes(token, info), info.keyTypes);
  });

  test("listTokens_theTestToken", async () => {
    const tokens = await kunci.listTokens();
    const token = tokens.find((entry) => entry.label === TOKEN_LABEL);
    assert.ok(token, JSON.stringify(tokens));
    assert.equal(token.id, tokenId);
    assert.equal(token.flags.pinLocked, false);
  });

  test("renewal_beginCompleteRenewRetireCancel_wholeLifecycle", async () => {
    // A first certificate (nothing to replace), as a holder's first one.
    const first = await kunci.beginRenewal({
      token: tokenId,
      key: { type: "ec", curve: "P-256" },
      subject: { CN: "Siti Nurhaliza", O: "Pemerintah Kota Pekalongan", C: "ID" },
      pin: USER_PIN,
    });
    assert.match(first.csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
    assert.match(first.keyId, /^[0-9a-f]{40}$/);
    let listed = await kunci.listRenewals();
    assert.equal(listed.find((r) => r.renewal === first.renewal)?.state, "awaiting-certificate");

    // A certificate for another key is refused, and so is garbage.
    const other = await kunci.beginRenewal({ token: tokenId, key: { type: "ec", curve: "P-256" },
      subject: { CN: "Orang Lain" }, pin: USER_PIN });
    const foreign = await ca.issue(other.csr);
    await rejectsWith(kunci.completeRenewal({ renewal: first.renewal, certificate: foreign }),
      "certificate-mismatch");
    await rejectsWith(kunci.completeRenewal({ renewal: first.renewal, certificate: "bukan" }),
      "certificate-invalid");
    const cancelled = await kunci.cancelRenewal({ renewal: other.renewal, pin: USER_PIN });
    assert.equal(cancelled.state, "cancelled");
    await rejectsWith(kunci.completeRenewal({ renewal: other.renewal, certificate: foreign }),
      "renewal-state");
    await rejectsWith(kunci.cancelRenewal({ renewal: "r000", pin: USER_PIN }),
      "renewal-not-found");

    const firstCert = await kunci.completeRenewal({
      renewal: first.renewal,
      certificate: await ca.issue(first.csr, 20),
      chain: [ca.pem],
    });
    assert.equal(firstCert.id, first.keyId);
    assert.equal(firstCert.subject.CN, "Siti Nurhaliza");
    assert.ok(firstCert.daysLeft >= 18 && firstCert.daysLeft <= 20, String(firstCert.daysLeft));

    // Renewal of that certificate, replacing it.
    const second = await kunci.beginRenewal({
      token: tokenId,
      key: { type: "ec", curve: "P-384" },
      subject: firstCert.subject,
      replaces: firstCert.id,
      pin: USER_PIN,
    });
    const secondCert = await kunci.completeRenewal({
      renewal: second.renewal,
      certificate: await ca.issue(second.csr),
      chain: [ca.pem],
    });
    assert.equal(secondCert.key.curve, "P-384");
    let certificates = await kunci.listCertificates({ token: tokenId });
    assert.ok(certificates.some((c) => c.id === first.keyId), "the old one is kept until retired");
    assert.ok(certificates.some((c) => c.id === "" && c.subject.CN === "Kunci Test CA"));

    await rejectsWith(kunci.retireRenewal({ renewal: second.renewal }), "pin-required");
    const retired = await kunci.retireRenewal({ renewal: second.renewal, pin: USER_PIN });
    assert.equal(retired.state, "completed");
    certificates = await kunci.listCertificates({ token: tokenId, pin: USER_PIN });
    assert.ok(!certificates.some((c) => c.id === first.keyId), "the old one is gone");
    const current = certificates.find((c) => c.id === second.keyId);
    assert.equal(current?.hasPrivateKey, true);
    listed = await kunci.listRenewals();
    assert.equal(listed.find((r) => r.renewal === first.renewal)?.state, "retired");

    // The new key signs; the signature verifies with the installed certificate.
    const digest = createHash("sha256").update("Surat Rekomendasi").digest();
    const signed = await kunci.sign({ token: tokenId, keyId: second.keyId, digest,
      pin: USER_PIN });
    assert.equal(signed.algorithm, "ECDSA");
    const publicKey = createPublicKey(signed.certificate);
    // ECDSA (DER) over SHA-256 of the text, which is the digest the agent was given.
    assert.ok(verify("sha256", Buffer.from("Surat Rekomendasi"), publicKey,
      Buffer.from(signed.signature, "base64")), "the signature verifies");
  });

  test("on_tokenPluggedIn_tokensChangedListsIt", async () => {
    const seen = nextEvent(kunci, "tokens.changed",
      (tokens) => tokens.some((token) => token.label === "Token Kedua"));
    await hsm.createToken("Token Kedua");
    const [tokens] = await seen;
    assert.ok(tokens.some((token) => token.label === TOKEN_LABEL), JSON.stringify(tokens));
  });
});
