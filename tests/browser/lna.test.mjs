// SPDX-License-Identifier: Apache-2.0
// Local Network Access as Chromium 156 does it, with kunci.js in the page: pages served from
// 127.0.0.1 that Chromium is told to hold as public (--ip-address-space-overrides), a page on
// loopback as it is, a stopped agent, and a page in a cross-origin iframe with and without
// `allow`. The permission is granted as the holder's "Allow" would (playwright's
// grantPermissions, i.e. CDP Browser.grantPermissions). See docs/page-client.md.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  TestCa,
  USER_PIN,
  artifactsDir,
  closedPort,
  launchChromium,
  repoRoot,
  startAgent,
  tokenWorkspace,
} from "./support/fixtures.mjs";
import { consoleNoise, consoleOf, serveLnaPages } from "./support/lna.mjs";

const TOKEN_LABEL = "Token Budi";
/** How long a state may take to show (a bound on the poll, not a wait). */
const STATE_TIMEOUT_MS = 20_000;
const LOOPBACK_PERMISSION = "local-network-access";

/** Resolves once kunci.js in `frame` reported `state`; returns that state's record. */
async function stateReported(frame, state) {
  const handle = await frame.waitForFunction(
    (wanted) => window.kunciStates?.find((entry) => entry.state === wanted),
    state,
    { timeout: STATE_TIMEOUT_MS },
  );
  return handle.jsonValue();
}

/** The states kunci.js in `frame` reported so far. */
function statesOf(frame) {
  return frame.evaluate(() => window.kunciStates.map((entry) => entry.state));
}

describe("Local Network Access in Chromium, with kunci.js", () => {
  let work;
  let agent;
  let ca;
  let browser;
  /** Pages Chromium holds as public: the renewal's, an iframe's parent, the framed page. */
  let publicSite;
  let parentSite;
  let framedSite;
  /** A page on loopback, as it is. */
  let loopbackSite;
  /** What the pages logged: all of it, and what is not a WebSocket's own failure line. */
  const logged = [];
  const noise = [];

  before(async () => {
    let hsm;
    ({ work, hsm } = await tokenWorkspace(TOKEN_LABEL));
    ca = await new TestCa(path.join(work.path, "ca")).create();
    [publicSite, parentSite, framedSite, loopbackSite] = await Promise.all([
      serveLnaPages(),
      serveLnaPages(),
      serveLnaPages(),
      serveLnaPages(),
    ]);
    agent = await startAgent({
      hsm,
      stateDir: path.join(work.path, "state"),
      origins: [publicSite.origin, framedSite.origin, loopbackSite.origin],
      dir: work.path,
    });
    const publicHosts = [publicSite, parentSite, framedSite].map((site) => `${site.host}=public`);
    browser = await launchChromium(path.join(work.path, "profile"), [
      `--ip-address-space-overrides=${publicHosts.join(",")}`,
    ]);
  });

  after(async () => {
    await browser?.close();
    await agent?.stop();
    await Promise.all(
      [publicSite, parentSite, framedSite, loopbackSite].map((site) => site?.close()),
    );
    work?.remove();
  });

  /** A new page at `url`, its console collected into `noise` when the test ends. */
  async function openPage(url) {
    const page = await browser.newPage();
    const messages = consoleOf(page);
    page.on("close", () => {
      logged.push(...messages);
      noise.push(...consoleNoise(messages).map((message) => ({ url, ...message })));
    });
    await page.goto(url);
    return page;
  }

  test("lna_demoPageOnPublicAddress_showsBlockedWithThePromptExplained", async () => {
    // Chromium 156 words its prompt "Access other apps and services on this device".
    const page = await openPage(`${publicSite.origin}/?agent=${agent.port}`);
    await page
      .getByText(/Access other apps and services on this device/)
      .first()
      .waitFor({ timeout: STATE_TIMEOUT_MS });
    await page.getByText(/mengakses aplikasi dan layanan lain di perangkat ini/).first().waitFor();
    const file = path.join(artifactsDir(), "lna-blocked-1366.png");
    await page.screenshot({ path: file, fullPage: true });
    if (process.env.KUNCI_UPDATE_SCREENSHOTS === "1") {
      fs.copyFileSync(file, path.join(repoRoot, "docs", "screens", "lna-blocked-1366.png"));
    }
    await page.close();
  });

  test("lna_publicPage_blockedThenAllowed_fullRenewal", async () => {
    // No retry by back-off in this test (10 minutes): only the permission's change may retry.
    const page = await openPage(
      `${publicSite.origin}/client.html?agent=${agent.port}&retryMs=600000`,
    );
    const blocked = await stateReported(page, "blocked");
    assert.equal(blocked.cause, "permission-denied");
    assert.equal(blocked.permission, "denied");
    assert.ok(!(await statesOf(page)).includes("open"));
    const words = await page.evaluate(() => window.kunci.stateDetail.message);
    assert.match(words.en, /Allow while visiting the site/);

    // The holder allows it (DevTools' grant stands in for the prompt's button): the client
    // hears of it from the permission's change event and connects at once.
    await browser.grantPermissions([LOOPBACK_PERMISSION], { origin: publicSite.origin });
    await stateReported(page, "open");
    const begun = await page.evaluate(
      async ({ label, pin }) => {
        const tokens = await window.kunci.listTokens();
        const token = tokens.find((t) => t.label === label);
        const result = await window.kunci.beginRenewal({
          token: token.id,
          key: { type: "ec", curve: "P-256" },
          subject: { CN: "Budi Santoso", O: "Pemerintah Kota Pekalongan", C: "ID" },
          pin,
        });
        return { ...result, token: token.id };
      },
      { label: TOKEN_LABEL, pin: USER_PIN },
    );
    assert.match(begun.csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
    const certificate = await ca.issue(begun.csr);
    const installed = await page.evaluate(
      ({ renewal, certificate, chain, pin }) =>
        window.kunci.completeRenewal({ renewal, certificate, chain: [chain], pin }),
      { renewal: begun.renewal, certificate, chain: ca.pem, pin: USER_PIN },
    );
    assert.equal(installed.id, begun.keyId);
    assert.equal(installed.subject.CN, "Budi Santoso");
    const renewals = await page.evaluate(() => window.kunci.listRenewals());
    assert.equal(renewals.find((r) => r.renewal === begun.renewal)?.state, "completed");
    await page.close();
  });

  test("lna_loopbackPage_opensNeverBlocked", async () => {
    const page = await openPage(`${loopbackSite.origin}/client.html?agent=${agent.port}`);
    await stateReported(page, "open");
    // ("connecting" is reported before the page's listener is on.)
    assert.deepEqual(await statesOf(page), ["open"]);
    // The browser does not gate this page, and never asked: the permission is untouched.
    const permission = await page.evaluate(
      async () => (await navigator.permissions.query({ name: "loopback-network" })).state,
    );
    assert.equal(permission, "prompt");
    assert.deepEqual(await page.evaluate(() => window.kunci.listTokens().then((t) => t.length)),
      1);
    await page.close();
  });

  /** kunci.js on `site`'s bare page, with no agent on its port: the `state` it reports. */
  async function reportedWithoutAgent(site, state) {
    const port = await closedPort();
    const page = await openPage(`${site.origin}/client.html?agent=${port}`);
    const reported = await stateReported(page, state);
    const states = await statesOf(page);
    await page.close();
    return { ...reported, states };
  }

  test("lna_agentStopped_publicPageAllowed_agentUnavailable", async () => {
    const unavailable = await reportedWithoutAgent(publicSite, "agent-unavailable");
    assert.equal(unavailable.cause, "not-running");
    assert.equal(unavailable.permission, "granted");
    assert.ok(!unavailable.states.includes("blocked"));
  });

  test("lna_agentStopped_loopbackPage_agentUnavailable", async () => {
    const unavailable = await reportedWithoutAgent(loopbackSite, "agent-unavailable");
    assert.equal(unavailable.cause, "not-running");
    assert.ok(!unavailable.states.includes("blocked"));
  });

  test("lna_agentStopped_publicPageDenied_blockedFirst", async () => {
    // docs/page-client.md: with the permission "denied", Chromium's failure looks the same
    // whether the agent runs or not; what the holder must do first is allow the site.
    const blocked = await reportedWithoutAgent(parentSite, "blocked");
    assert.equal(blocked.permission, "denied");
  });

  /** The parent site's page framing the bare page of `framedSite`, `allow` on the iframe. */
  async function openFramed(allow) {
    const framed = `${framedSite.origin}/client.html?agent=${agent.port}`;
    const query = `src=${encodeURIComponent(framed)}${allow ? `&allow=${allow}` : ""}`;
    const page = await openPage(`${parentSite.origin}/frame.html?${query}`);
    return { page, frame: page.frames().find((f) => f.url().startsWith(framedSite.origin)) };
  }

  test("lna_iframeWithoutAllow_blockedAndTheBrowserCannotAsk", async () => {
    const { page, frame } = await openFramed(null);
    const blocked = await stateReported(frame, "blocked");
    assert.equal(blocked.cause, "frame-not-allowed");
    const words = await frame.evaluate(() => window.kunci.stateDetail.message);
    assert.match(words.en, /embedded in another page/);
    await page.close();
  });

  test("lna_iframeWithAllow_browserMayAskThenOpens", async () => {
    const { page, frame } = await openFramed("local-network-access");
    // Headless Chromium turns down the prompt it would show: "denied", not frame-not-allowed.
    const blocked = await stateReported(frame, "blocked");
    assert.equal(blocked.cause, "permission-denied");
    // The permission belongs to the top-level site: allowing it there opens the frame's.
    await browser.grantPermissions([LOOPBACK_PERMISSION], { origin: parentSite.origin });
    await stateReported(frame, "open");
    assert.equal(await frame.evaluate(() => window.kunci.listTokens().then((t) => t.length)), 1);
    await page.close();
  });

  test("lna_kunciJsChecks_logNothingToTheConsole", () => {
    // Only the browser's own line for each failed WebSocket; no 404, ORB or CORS of a probe.
    // The demo page (helper D's) is not kunci.js's check: its own logs are not judged here.
    assert.ok(logged.length > 0, "the failed attempts' lines were collected");
    const fromClient = noise.filter((message) => !/\/\?agent=/.test(message.url));
    assert.deepEqual(fromClient, []);
  });
});
