// SPDX-License-Identifier: Apache-2.0
// The demo AMS page in headless Chromium through the whole renewal, against
// `kunci-agent --demo` (its own SoftHSM token "Token Demo BSrE" with an expiring certificate for
// Siti Nurhaliza, its own origin allowed, `demo.issue` playing the CA). Each screen is asserted
// and photographed into the artefacts directory (KUNCI_BROWSER_ARTIFACTS).
// KUNCI_UPDATE_DEMO_PNG=1 also copies the step-5 screenshot to docs/demo.png for the README.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { connect } from "../../ipc/client/kunci.js";
import {
  USER_PIN,
  WRONG_PIN,
  artifactsDir,
  filesContaining,
  launchChromium,
  repoRoot,
  startDemoAgent,
  tempDir,
  wsFactory,
} from "./support/fixtures.mjs";

const DEMO_TOKEN = "Token Demo BSrE";
const HOLDER = "Siti Nurhaliza";

describe("the demo page through a whole renewal", () => {
  let work;
  let agent;
  let browser;
  let page;
  let shots;
  const pageErrors = [];

  async function shoot(name) {
    const file = path.join(shots, `demo-${name}.png`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: file });
    return file;
  }

  /** The visible text of the alert box `id`, after it shows. */
  async function alertOf(id) {
    const box = page.locator(`#${id}:not([hidden])`);
    await box.waitFor();
    return { reason: await box.getAttribute("data-reason"), text: await box.innerText() };
  }

  before(async () => {
    work = tempDir();
    shots = artifactsDir();
    agent = await startDemoAgent({ stateDir: path.join(work.path, "demo"), dir: work.path });
    browser = await launchChromium(path.join(work.path, "profile"));
    page = await browser.newPage();
    page.on("pageerror", (error) => pageErrors.push(error));
  });

  after(async () => {
    await browser?.close();
    const exit = await agent?.stop();
    try {
      assert.deepEqual(exit, { code: 0, signal: null }, "the agent exits 0 on SIGTERM");
      assert.ok(!agent.stderr.includes(USER_PIN), "no PIN in the agent's log");
      assert.ok(!agent.stderr.includes(WRONG_PIN), "no PIN in the agent's log");
      for (const name of ["renewals", "audit.log"]) {
        const target = path.join(work.path, "demo", name);
        if (fs.existsSync(target)) {
          const found = fs.statSync(target).isDirectory()
            ? filesContaining(target, USER_PIN)
            : fs.readFileSync(target).includes(USER_PIN) ? [target] : [];
          assert.deepEqual(found, [], "no PIN in the state directory");
        }
      }
    } finally {
      work?.remove();
    }
  });

  test("step1_tokensAndCertificates_expiringCertificateWithDaysLeft", async () => {
    assert.match(agent.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await page.goto(agent.url);
    const card = page.locator("[data-token]", { hasText: DEMO_TOKEN });
    const row = card.locator("tr[data-certificate]", { hasText: HOLDER });
    await row.waitFor();
    assert.equal(await page.locator("#connection").getAttribute("data-state"), "open");
    const days = Number(await row.locator(".badge").getAttribute("data-days"));
    assert.ok(days >= 18 && days <= 20, `days left ${days}`);
    assert.match(await row.innerText(), /hari lagi/);
    assert.match(await row.innerText(), /days left/);
    assert.match(await page.locator(".stepper li.current").innerText(), /Token & sertifikat/);
    await shoot("1-tokens");
  });

  test("step3_checkData_subjectOfTheCurrentCertificate", async () => {
    await page.locator("tr[data-certificate]", { hasText: HOLDER })
      .getByRole("button", { name: /Perbarui/ }).click();
    const subject = page.locator("#subject");
    await subject.waitFor();
    const text = await subject.innerText();
    assert.match(text, /Nama.*\n?.*Siti Nurhaliza/);
    assert.match(text, /Pemerintah Kota Pekalongan/);
    assert.match(text, /Negara[^\n]*\n?[^\n]*ID/);
    assert.match(await page.locator("#current").innerText(), /Token Demo BSrE/);
    // Step 4 is explained when the holder says the data changed.
    await page.getByRole("button", { name: /Data saya berubah/ }).click();
    assert.match(await page.locator("#data-change").innerText(), /perubahan data/);
    assert.match(await page.locator(".stepper li.current").innerText(), /Periksa data/);
    await shoot("3-check-data");
  });

  test("step5_wrongPin_holderToldInBothLanguagesAndNothingMade", async () => {
    await page.getByRole("button", { name: /Data sudah benar/ }).click();
    await page.locator("#begin-form").waitFor();
    await page.getByRole("radio", { name: /EC P-256/ }).check();
    await page.fill("#begin-pin", WRONG_PIN);
    await page.getByRole("button", { name: /Buat kunci baru/ }).click();
    const alert = await alertOf("begin-alert");
    assert.equal(alert.reason, "pin-incorrect");
    assert.match(alert.text, /PIN salah/);
    assert.match(alert.text, /Wrong PIN/);
    assert.equal(await page.inputValue("#begin-pin"), "", "the page does not keep the PIN");
    assert.ok(await page.locator("#csr-box").isHidden());
  });

  test("step5_beginRenewal_csrShownAndSrUploadKeptLocally", async () => {
    await page.fill("#begin-pin", USER_PIN);
    await page.getByRole("button", { name: /Buat kunci baru/ }).click();
    await page.locator("#csr-box:not([hidden])").waitFor();
    assert.match(await page.inputValue("#csr"), /^-----BEGIN CERTIFICATE REQUEST-----/);
    assert.match(await page.locator("#key-id").innerText(), /^[0-9a-f]{40}$/);
    assert.ok(await page.locator("#begin-alert").isHidden());
    // Submitting without the letter is refused by the page.
    await page.getByRole("button", { name: /Kirim permohonan/ }).click();
    assert.equal((await alertOf("submit-alert")).reason, "sr-missing");
    await page.setInputFiles("#sr-file", {
      name: "surat-rekomendasi.pdf",
      mimeType: "application/pdf",
      buffer: Buffer.from("%PDF-1.4\n% Surat Rekomendasi (demo)\n"),
    });
    const file = await shoot("5-request");
    if (process.env.KUNCI_UPDATE_DEMO_PNG === "1") {
      fs.copyFileSync(file, path.join(repoRoot, "docs", "demo.png"));
    }
    await page.getByRole("button", { name: /Kirim permohonan/ }).click();
    const summary = page.locator("#request-summary");
    await summary.waitFor();
    const text = await summary.innerText();
    assert.match(text, /surat-rekomendasi\.pdf/);
    assert.match(text, /tidak dikirim/);
    assert.match(text, /EC P-256/);
    assert.match(await page.locator(".stepper li.current").innerText(), /Sertifikat terbit/);
  });

  test("step6_issueWithDemoCa_newCertificateInstalled", async () => {
    await page.getByRole("button", { name: /Terbitkan \(demo CA\)/ }).click();
    const issued = page.locator("#issued-box:not([hidden])");
    await issued.waitFor();
    const text = await issued.innerText();
    assert.match(text, /Siti Nurhaliza/);
    assert.match(text, /EC P-256/);
    const days = Number(await issued.locator(".badge").getAttribute("data-days"));
    assert.ok(days >= 360, `the new certificate has ${days} days`);
    assert.ok(await page.locator("#retire-box").isVisible(), "retiring the old one is offered");
    await shoot("6-issued");
  });

  test("step6_retireOldCertificate_needsPinThenRemovesIt", async () => {
    await page.getByRole("button", { name: /Hapus sertifikat lama/ }).click();
    const alert = await alertOf("retire-alert");
    assert.equal(alert.reason, "pin-required");
    assert.match(alert.text, /PIN token diperlukan/);
    await page.fill("#retire-pin", USER_PIN);
    await page.getByRole("button", { name: /Hapus sertifikat lama/ }).click();
    const done = page.locator("#done-box:not([hidden])");
    await done.waitFor();
    assert.match(await done.innerText(), /telah dihapus dari token/);
    await shoot("6-retired");
  });

  test("step1_afterRenewal_onlyTheNewCertificateListed", async () => {
    await page.getByRole("button", { name: /Selesai/ }).click();
    const rows = page.locator("#tokens:not([data-loading]) [data-token] tr[data-certificate]");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1, "the old certificate is gone");
    const days = Number(await rows.first().locator(".badge").getAttribute("data-days"));
    assert.ok(days >= 360, `days left ${days}`);
    assert.ok(await page.locator("#renewals-box").isHidden(), "no unfinished request left");
    await shoot("1-after");
  });

  test("agent_sameStateThroughTheClient_renewalCompletedAndKeyOnToken", async () => {
    // Checked past the page: the agent's own answers, from the demo's allowed origin.
    const origin = new URL(agent.url).origin;
    const kunci = connect({ port: agent.port, createWebSocket: wsFactory(origin) });
    try {
      const token = (await kunci.listTokens()).find((entry) => entry.label === DEMO_TOKEN);
      assert.ok(token);
      const renewals = await kunci.listRenewals();
      assert.equal(renewals.length, 1);
      assert.equal(renewals[0].state, "completed");
      const certificates = await kunci.listCertificates({ token: token.id, pin: USER_PIN });
      const own = certificates.filter((certificate) => certificate.id !== "");
      assert.equal(own.length, 1);
      assert.equal(own[0].id, renewals[0].keyId);
      assert.equal(own[0].hasPrivateKey, true);
      assert.equal(own[0].key.curve, "P-256");
    } finally {
      kunci.close();
    }
  });

  test("page_noScriptErrors", () => {
    assert.deepEqual(pageErrors.map((error) => error.message), []);
  });
});
