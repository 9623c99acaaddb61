// SPDX-License-Identifier: Apache-2.0
// Per-token key types (tokens.list `keyTypes`): a SoftHSM token seen through the fault module
// reports RSA key generation up to 3072 bits only, as tpm2-pkcs11 does. kunci.js gives the token's
// types (tokenKeyTypes), and the demo page, in headless Chromium, offers only those: no RSA 4096,
// although agent.info lists it.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { connect, tokenKeyTypes } from "../../ipc/client/kunci.js";
import {
  TestCa,
  USER_PIN,
  artifactsDir,
  launchChromium,
  servePageFiles,
  startAgent,
  tokenWorkspace,
  wsFactory,
} from "./support/fixtures.mjs";

const TOKEN_LABEL = "Token RSA 3072";
const HOLDER = "Budi Santoso";
const RSA_UP_TO_3072 = { mechanismInfo: { CKM_RSA_PKCS_KEY_PAIR_GEN: { maxKeySize: 3072 } } };
const TOKEN_KEY_TYPES = [
  { type: "rsa", bits: 2048 },
  { type: "rsa", bits: 3072 },
  { type: "ec", curve: "P-256" },
  { type: "ec", curve: "P-384" },
];

describe("key types per token: a token that cannot make RSA 4096", () => {
  let work;
  let site;
  let agent;
  let kunci;
  let browser;
  const pageErrors = [];

  before(async () => {
    let hsm;
    ({ work, hsm } = await tokenWorkspace(TOKEN_LABEL));
    site = await servePageFiles();
    agent = await startAgent({
      hsm,
      stateDir: path.join(work.path, "state"),
      origins: [site.origin],
      dir: work.path,
      faultPlan: RSA_UP_TO_3072,
    });
    kunci = connect({ port: agent.port, createWebSocket: wsFactory(site.origin) });
    await kunci.ready();
    // A certificate on the token, for the page to renew.
    const [token] = await kunci.listTokens();
    const begun = await kunci.beginRenewal({
      token: token.id,
      key: { type: "ec", curve: "P-256" },
      subject: { CN: HOLDER, O: "Pemerintah Kota Pekalongan", C: "ID" },
      pin: USER_PIN,
    });
    const ca = await new TestCa(path.join(work.path, "ca")).create();
    await kunci.completeRenewal({
      renewal: begun.renewal,
      certificate: await ca.issue(begun.csr, 20),
    });
    browser = await launchChromium(path.join(work.path, "profile"));
  });

  after(async () => {
    kunci?.close();
    await browser?.close();
    const exit = await agent?.stop();
    await site?.close();
    try {
      assert.deepEqual(exit, { code: 0, signal: null }, "the agent exits 0 on SIGTERM");
    } finally {
      work?.remove();
    }
  });

  test("listTokens_rsaUpTo3072_tokenKeyTypesWithoutRsa4096AgentInfoWithIt", async () => {
    const [token] = await kunci.listTokens();
    const info = await kunci.agentInfo();

    assert.deepEqual(token.keyTypes, TOKEN_KEY_TYPES);
    assert.deepEqual(tokenKeyTypes(token, info), TOKEN_KEY_TYPES);
    assert.ok(info.keyTypes.some((key) => key.type === "rsa" && key.bits === 4096),
      "agent.info keeps what the agent itself makes");
  });

  test("tokenKeyTypes_tokenFromAnOlderAgent_agentInfos", async () => {
    const [token] = await kunci.listTokens();
    const info = await kunci.agentInfo();
    const { keyTypes, ...older } = token;

    assert.equal(keyTypes.length, 4);
    assert.deepEqual(tokenKeyTypes(older, info), info.keyTypes);
    assert.deepEqual(tokenKeyTypes(older), []);
    assert.deepEqual(tokenKeyTypes({ ...token, keyTypes: [] }, info), [],
      "a token that can make nothing offers nothing");
  });

  test("demoPage_keyTypeChoice_onlyTheTokensKeyTypes", async () => {
    const page = await browser.newPage();
    page.on("pageerror", (error) => pageErrors.push(error));
    await page.goto(`${site.origin}/?agent=${agent.port}`);
    await page.locator("tr[data-certificate]", { hasText: HOLDER })
      .getByRole("button", { name: /Perbarui/ }).click();
    await page.getByRole("button", { name: /Data sudah benar/ }).click();
    await page.locator("#begin-form").waitFor();

    const offered = await page.locator("#key-types input[type=radio]")
      .evaluateAll((inputs) => inputs.map((input) => input.value));
    assert.deepEqual(offered, ["rsa-2048", "rsa-3072", "ec-P-256", "ec-P-384"]);
    assert.equal(await page.getByRole("radio", { name: /RSA 4096/ }).count(), 0);
    assert.ok(await page.getByRole("radio", { name: /RSA 2048/ }).isChecked(),
      "the recommended type is chosen");
    assert.ok(await page.getByRole("button", { name: /Buat kunci baru/ }).isEnabled());
    await page.screenshot({ path: path.join(artifactsDir(), "demo-key-types.png") });
    await page.close();
    assert.deepEqual(pageErrors, []);
  });
});
