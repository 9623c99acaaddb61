// SPDX-License-Identifier: Apache-2.0
// kunci.js's `grant` option against kunci-agent with a grant key pinned for the page's origin
// (protocol.md section 8): the client asks the page's function for each token-changing call's
// grant, never handing it the PIN, and sends it; without the option the agent answers
// grant-required, which holderMessage words for the holder.
// Run: KUNCI_AGENT=build/dev/agent/kunci-agent node --test tests/grants_e2e/grant_option.test.mjs
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { KunciError, connect, holderMessage } from "../../ipc/client/kunci.js";
import {
  SoftHsm,
  USER_PIN,
  startAgent,
  tempDir,
  wsFactory,
} from "../browser/support/fixtures.mjs";

const ORIGIN = "https://ams.example.id";
const TOKEN_LABEL = "Token Uji Grant";

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

/** The AMS backend of the test: an Ed25519 grant for exactly this call, as docs/grants.md says. */
function backendGrant(privateKey, method, params) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "EdDSA" };
  const claims = { aud: "kunci", origin: ORIGIN, method, params, nonce: b64url(randomBytes(16)),
    iat: now, exp: now + 120, holder: "Siti Nurhaliza" };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign(null, Buffer.from(input), privateKey))}`;
}

describe("kunci.js grant option against kunci-agent", () => {
  let work;
  let agent;
  let tokenId;
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");

  before(async () => {
    work = tempDir();
    const hsm = new SoftHsm(path.join(work.path, "hsm"));
    await hsm.createToken(TOKEN_LABEL);
    fs.mkdirSync(path.join(work.path, "state"));
    const keyFile = path.join(work.path, "backend-public.pem");
    fs.writeFileSync(keyFile, publicKey.export({ type: "spki", format: "pem" }));
    agent = await startAgent({
      hsm,
      stateDir: path.join(work.path, "state"),
      origins: [ORIGIN],
      extraArgs: ["--grant-key", `${ORIGIN}=${keyFile}`],
      dir: work.path,
    });
    const reader = connect({ port: agent.port, createWebSocket: wsFactory(ORIGIN) });
    try {
      tokenId = (await reader.listTokens()).find((token) => token.label === TOKEN_LABEL)?.id;
    } finally {
      reader.close();
    }
  });

  after(async () => {
    const exit = await agent?.stop();
    try {
      assert.deepEqual(exit, { code: 0, signal: null }, "the agent exits 0 on SIGTERM");
    } finally {
      work?.remove();
    }
  });

  test("beginRenewal_withGrantOption_grantFetchedWithoutPinAndAccepted", async () => {
    const asked = [];
    const kunci = connect({
      port: agent.port,
      createWebSocket: wsFactory(ORIGIN),
      grant: async (method, params) => {
        asked.push({ method, params });
        return backendGrant(privateKey, method, params);
      },
    });
    try {
      const begun = await kunci.beginRenewal({ token: tokenId, key: { type: "ec", curve: "P-256" },
        subject: { CN: "Siti Nurhaliza" }, pin: USER_PIN, allowFinalTry: false });
      assert.match(begun.csr, /BEGIN CERTIFICATE REQUEST/);
      assert.deepEqual(asked, [{ method: "renewal.begin", params: { token: tokenId,
        key: { type: "ec", curve: "P-256" }, subject: { CN: "Siti Nurhaliza" } } }]);
      await kunci.cancelRenewal({ renewal: begun.renewal, pin: USER_PIN });
      assert.deepEqual(asked.map((call) => call.method), ["renewal.begin", "renewal.cancel"]);
    } finally {
      kunci.close();
    }
  });

  test("beginRenewal_withoutGrantOption_rejectsGrantRequiredWithHolderSentence", async () => {
    const kunci = connect({ port: agent.port, createWebSocket: wsFactory(ORIGIN) });
    try {
      let caught;
      try {
        await kunci.beginRenewal({ token: tokenId, key: { type: "ec", curve: "P-256" },
          subject: { CN: "Siti Nurhaliza" }, pin: USER_PIN });
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof KunciError, `expected a KunciError, got ${caught}`);
      assert.equal(caught.reason, "grant-required");
      assert.match(holderMessage(caught).id, /server AMS/);
      assert.match(holderMessage(caught).en, /AMS server/);
    } finally {
      kunci.close();
    }
  });

  test("sign_grantFunctionFails_rejectsWithItsErrorAndSendsNothing", async () => {
    const kunci = connect({
      port: agent.port,
      createWebSocket: wsFactory(ORIGIN),
      grant: async () => {
        throw new Error("AMS refused the grant (403)");
      },
    });
    try {
      await assert.rejects(
        kunci.sign({ token: tokenId, keyId: "a1b2", digest: Buffer.alloc(32), pin: USER_PIN }),
        /AMS refused the grant \(403\)/,
      );
    } finally {
      kunci.close();
    }
  });
});
