// SPDX-License-Identifier: Apache-2.0
// The demo page served from an origin kunci-agent does not allow (a tiny node http server on
// another port), in headless Chromium: the connection fails, the page tells the holder why, and
// the agent logs the refusal. Also: no agent at all, with the page's install link.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  SoftHsm,
  artifactsDir,
  closedPort,
  launchChromium,
  servePageFiles,
  startAgent,
  tempDir,
} from "./support/fixtures.mjs";

const INSTALL_URL = "https://ams.example.id/pasang-kunci";

describe("the demo page on an origin the agent does not allow", () => {
  let work;
  let agent;
  let site;
  let browser;
  const pageErrors = [];

  before(async () => {
    work = tempDir();
    const hsm = new SoftHsm(path.join(work.path, "hsm"));
    await hsm.createToken("Token Uji");
    fs.mkdirSync(path.join(work.path, "state"));
    site = await servePageFiles();
    agent = await startAgent({
      hsm,
      stateDir: path.join(work.path, "state"),
      origins: ["https://ams.example.id"],
      dir: work.path,
    });
    browser = await launchChromium(path.join(work.path, "profile"), [
      // A public-looking name for the same tiny server: ams-lain.example -> 127.0.0.1.
      "--host-resolver-rules=MAP ams-lain.example 127.0.0.1",
    ]);
  });

  after(async () => {
    await browser?.close();
    await agent?.stop();
    await site?.close();
    work?.remove();
  });

  async function openPage(url) {
    const page = await browser.newPage();
    page.on("pageerror", (error) => pageErrors.push(error));
    await page.goto(url);
    return page;
  }

  test("demoPage_loopbackOriginNotAllowed_agentUnavailableAndAgentLogsRefusal", async () => {
    const page = await openPage(`${site.origin}/?agent=${agent.port}&install=${INSTALL_URL}`);
    const banner = page.locator("#banner");
    await banner.locator("#retry").waitFor();
    assert.equal(await banner.getAttribute("data-state"), "agent-unavailable");
    assert.equal(await banner.getAttribute("data-cause"), "not-running");
    assert.match(await page.locator("#banner-id").textContent(), /belum diizinkan dalam pengaturannya/);
    assert.match(await page.locator("#banner-en").textContent(), /may not allow this site's address/);
    assert.equal(await page.locator("#connection").getAttribute("data-state"),
      "agent-unavailable");
    assert.equal(await page.locator("[data-token]").count(), 0, "no token shown");
    const origin = site.origin.replace(/\./g, "\\.");
    await agent.waitForLog(new RegExp(`refused with 403 \\(Origin ${origin} is not allowed\\)`));
    await page.screenshot({ path: path.join(artifactsDir(), "refused-origin.png") });
    await page.close();
  });

  test("demoPage_publicOriginNotAllowed_refusedNotBlocked", async () => {
    // Chromium reports the local-network permission "denied" on this non-secure public page
    // yet lets the connection through: kunci.js must not call the agent's refusal "blocked".
    const { port } = new URL(site.origin);
    const origin = `http://ams-lain.example:${port}`;
    const page = await openPage(`${origin}/?agent=${agent.port}`);
    await page.locator("#banner #retry").waitFor();
    assert.equal(await page.locator("#banner").getAttribute("data-cause"), "not-running");
    await agent.waitForLog(
      /refused with 403 \(Origin http:\/\/ams-lain\.example:\d+ is not allowed\)/);
    await page.close();
  });

  test("demoPage_noAgentRunning_showsNotRunningWithInstallLink", async () => {
    const port = await closedPort();
    const page = await openPage(`${site.origin}/?agent=${port}&install=${INSTALL_URL}`);
    const link = page.locator("#banner #install-link");
    await link.waitFor();
    assert.equal(await link.getAttribute("href"), INSTALL_URL);
    assert.equal(await page.locator("#banner").getAttribute("data-cause"), "not-running");
    assert.match(await page.locator("#banner-id").textContent(),
      /tidak berjalan atau belum terpasang/);
    assert.match(await page.locator("#banner-en").textContent(), /not running or not installed/);
    await page.screenshot({ path: path.join(artifactsDir(), "agent-not-running.png") });
    await page.close();
  });

  test("demoPage_noScriptErrors", () => {
    assert.deepEqual(pageErrors.map((error) => error.message), []);
  });
});
