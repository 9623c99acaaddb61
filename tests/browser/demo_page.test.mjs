// SPDX-License-Identifier: Apache-2.0
// The demo AMS page in headless Chromium through two whole renewals, as a holder walks them,
// against `kunci-agent --demo` (its own SoftHSM token "Token Demo BSrE" with a certificate for
// Siti Nurhaliza that expires in 20 days and whose key usage allows key encipherment, its own
// origin allowed, `demo.issue` playing the CA). The first renewal keeps the old certificate after
// the page's warning; the second renews the new, signing-only certificate and deletes its
// predecessor with no such warning. Each fix of issue 16 (items 1-10) is asserted where it can
// fail, and every step is photographed at 1366 and 390 px (full page) into the artefacts
// directory (KUNCI_BROWSER_ARTIFACTS) and, with KUNCI_UPDATE_SCREENSHOTS=1, into docs/screens/.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { connect } from "../../ipc/client/kunci.js";
import {
  USER_PIN,
  WRONG_PIN,
  artifactsDir,
  closedPort,
  filesContaining,
  launchChromium,
  repoRoot,
  servePageFiles,
  startDemoAgent,
  tempDir,
  wsFactory,
} from "./support/fixtures.mjs";

const DEMO_TOKEN = "Token Demo BSrE";
const HOLDER = "Siti Nurhaliza";
const SR_LETTER = {
  name: "surat-rekomendasi.pdf",
  mimeType: "application/pdf",
  buffer: Buffer.from("%PDF-1.4\n% Surat Rekomendasi (demo)\n"), // 36 bytes
};
const WIDTHS = [1366, 390];
const NARROWEST = 360;
const screensDir = path.join(repoRoot, "docs", "screens");
const updateScreens = process.env.KUNCI_UPDATE_SCREENSHOTS === "1";

/** Whether the page scrolls sideways at its current width. */
function scrollsSideways(page) {
  return page.evaluate(() =>
    document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/**
 * Photographs the page's current state, full page, at each of WIDTHS (`<name>-<width>.png`),
 * asserting on the way that neither those widths nor 360 px scroll sideways; ends at 1366 px.
 */
async function photograph(page, name) {
  const shots = artifactsDir();
  for (const width of [NARROWEST, ...WIDTHS]) {
    await page.setViewportSize({ width, height: width > 800 ? 768 : 844 });
    assert.equal(await scrollsSideways(page), false, `${name} scrolls sideways at ${width} px`);
    if (width === NARROWEST) {
      continue;
    }
    const file = path.join(shots, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (updateScreens) {
      fs.mkdirSync(screensDir, { recursive: true });
      fs.copyFileSync(file, path.join(screensDir, `${name}-${width}.png`));
    }
  }
}

/** Each stepper step's state (done, current, todo, skipped) and visible status words. */
function stepper(page) {
  return page.locator(".stepper li").evaluateAll((items) => items.map((item) => ({
    state: item.dataset.state,
    status: item.querySelector(".status").textContent.replace(/\s+/g, " ").trim(),
  })));
}

describe("the demo page through two whole renewals", () => {
  let work;
  let agent;
  let browser;
  let page;
  let kunci;
  let token;
  const pageErrors = [];

  /** The visible text of the alert box `id`, after it shows. */
  async function alertOf(id) {
    const box = page.locator(`#${id}:not([hidden])`);
    await box.waitFor();
    return { reason: await box.getAttribute("data-reason"), text: await box.innerText() };
  }

  /** The agent's own certificates on the demo token (certificates.list, past the page). */
  async function agentCertificates() {
    const listed = await kunci.listCertificates({ token: token.id, pin: USER_PIN });
    return listed.filter((certificate) => certificate.id !== "");
  }

  /** The step-1 rows once the list is loaded (not while it reloads). */
  function certificateRows() {
    return page.locator("#tokens:not([data-loading]):not([data-stale]) [data-token] " +
      "tr[data-certificate]");
  }

  before(async () => {
    work = tempDir();
    agent = await startDemoAgent({ stateDir: path.join(work.path, "demo"), dir: work.path });
    kunci = connect({ port: agent.port, createWebSocket: wsFactory(new URL(agent.url).origin) });
    token = (await kunci.listTokens()).find((entry) => entry.label === DEMO_TOKEN);
    browser = await launchChromium(path.join(work.path, "profile"));
    page = await browser.newPage();
    page.setDefaultTimeout(20000); // a step that fails fails before the next one waits
    page.on("pageerror", (error) => pageErrors.push(error));
  });

  after(async () => {
    kunci?.close();
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

  test("step1_tokens_daysLeftExactlyTheAgentsAndEveryStepNotYet", async () => {
    assert.ok(token, "the demo token is there");
    assert.match(agent.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await page.goto(agent.url);
    const row = certificateRows().filter({ hasText: HOLDER });
    await row.waitFor();
    assert.equal(await page.locator("#connection").getAttribute("data-state"), "open");
    // Item 9: the page shows the agent's daysLeft, never one of its own.
    const [old] = await agentCertificates();
    assert.equal(Number(await row.locator(".badge").getAttribute("data-days")), old.daysLeft);
    assert.match(await row.locator(".badge").innerText(), new RegExp(`^${old.daysLeft} hari lagi`));
    assert.match(await row.innerText(), new RegExp(`${old.daysLeft} days left`));
    const steps = await stepper(page);
    assert.deepEqual(steps.map((step) => step.state),
      ["current", "todo", "todo", "todo", "todo", "todo"]);
    // Item 7: the last step reads as one to come.
    assert.match(await page.locator(".stepper li[data-step='6'] .label").innerText(),
      /Penerbitan sertifikat/);
    assert.match(steps[5].status, /Belum/);
    assert.match(await page.locator("#next").innerText(), /Perbarui/);
    await photograph(page, "step1-tokens");
  });

  test("item1_renew_step3WithStep2DoneAndWhy", async () => {
    await certificateRows().filter({ hasText: HOLDER })
      .getByRole("button", { name: /Perbarui/ }).click();
    const subject = page.locator("#subject");
    await subject.waitFor();
    const text = await subject.innerText();
    assert.match(text, /^Nama\nName\nSiti Nurhaliza$/m);
    assert.match(text, /Pemerintah Kota Pekalongan/);
    assert.match(await page.locator("#current").innerText(), /Token Demo BSrE/);
    const steps = await stepper(page);
    assert.deepEqual(steps.map((step) => step.state),
      ["done", "done", "current", "todo", "todo", "todo"]);
    assert.match(steps[1].status, /demo menganggap Anda sudah masuk/);
    assert.match(steps[1].status, /counts you as logged in/);
    assert.match(steps[3].status, /Hanya bila data berubah/);
    assert.match(await page.locator("#login-note").innerText(), /Langkah 2 \(Masuk AMS\) selesai/);
    await photograph(page, "step3-check");
  });

  test("item2_dataChanged_stepperOnStep4NoContinueAndProcedureLink", async () => {
    await page.getByRole("button", { name: /Data saya berubah/ }).click();
    await page.locator("#screen-change:not([hidden])").waitFor();
    const steps = await stepper(page);
    assert.equal(steps[3].state, "current");
    assert.equal(await page.locator(".stepper li[aria-current]").getAttribute("data-step"), "4");
    assert.equal(await page.getByRole("button", { name: /lanjut/ }).count(), 0,
      "no visible “continue” on step 4");
    const link = page.getByRole("link", { name: /SOP Perubahan Data/ });
    assert.match(await link.getAttribute("href"), /^https?:\/\//);
    assert.match(await page.locator("#data-change").innerText(), /Perubahan Data/);
    assert.match(await page.locator("#next").innerText(), /perubahan data/i);
    await photograph(page, "step4-data-change");
    await page.getByRole("button", { name: /Kembali ke pemeriksaan data/ }).click();
    await page.locator("#screen-check:not([hidden])").waitFor();
    assert.equal((await stepper(page))[2].state, "current");
  });

  test("item4_bothLanguages_englishAlwaysOnItsOwnLineNeverMixed", async () => {
    const inline = await page.locator(".en").evaluateAll((elements) => elements
      .filter((element) => getComputedStyle(element).display !== "block")
      .map((element) => element.textContent.trim()));
    assert.deepEqual(inline, [], "every English text is a block of its own");
    const html = fs.readFileSync(path.join(repoRoot, "ipc", "client", "demo", "index.html"),
      "utf8");
    assert.doesNotMatch(html, /meminta PIN\. <span class="en"[^>]*>Demo: the PIN/);
    assert.doesNotMatch(html, /tidak dikirim kept locally/);
  });

  test("item6_wrongPin_calmWordsNoRawReasonNothingMade", async () => {
    await page.getByRole("button", { name: /Data sudah benar/ }).click();
    await page.locator("#begin-form").waitFor();
    const steps = await stepper(page);
    assert.deepEqual(steps.map((step) => step.state),
      ["done", "done", "done", "skipped", "current", "todo"]);
    assert.match(steps[3].status, /Dilewati: data Anda tidak berubah/);
    await page.getByRole("radio", { name: /EC P-256/ }).check();
    await page.fill("#begin-pin", WRONG_PIN);
    await page.getByRole("button", { name: /Buat kunci baru/ }).click();
    const alert = await alertOf("begin-alert");
    assert.equal(alert.reason, "pin-incorrect");
    assert.match(alert.text, /PIN salah\. Periksa PIN Anda/);
    assert.match(alert.text, /Wrong PIN\. Check your PIN/);
    assert.doesNotMatch(alert.text, /sedikit|Few tries/, "SoftHSM's count-low is not news");
    assert.doesNotMatch(alert.text, /pin-incorrect/, "no raw reason");
    assert.equal(await page.inputValue("#begin-pin"), "", "the page does not keep the PIN");
    assert.ok(await page.locator("#csr-box").isHidden());
    await photograph(page, "step5-request");
  });

  test("item3_keyMade_formLockedAndCsrNeedsNothing", async () => {
    await page.fill("#begin-pin", USER_PIN);
    await page.getByRole("button", { name: /Buat kunci baru/ }).click();
    await page.locator("#csr-box:not([hidden])").waitFor();
    assert.match(await page.inputValue("#csr"), /^-----BEGIN CERTIFICATE REQUEST-----/);
    assert.match(await page.locator("#key-id").innerText(), /^[0-9a-f]{40}$/);
    assert.ok(await page.locator("#begin-alert").isHidden());
    for (const radio of await page.locator("#key-types input").all()) {
      assert.ok(await radio.isDisabled(), "the key type is chosen for good");
    }
    assert.ok(await page.locator("#begin-pin").isDisabled());
    assert.ok(await page.getByRole("button", { name: /^Kembali/ }).isDisabled());
    assert.ok(await page.locator("#begin-done").isVisible());
    assert.match(await page.locator("#csr-no-action").innerText(),
      /Tidak perlu tindakan apa pun dari Anda/);
    assert.match(await page.locator("#next").innerText(), /Surat Rekomendasi/);
  });

  test("item5_srPicker_indonesianLabelsAndTheFileNameIn36B", async () => {
    const picker = page.locator("label.file-pick");
    assert.match(await picker.innerText(), /Pilih berkas\s+Choose a file\s+Belum ada berkas/);
    assert.ok(!(await page.locator("#sr-file").isVisible()) ||
      (await page.locator("#sr-file").boundingBox()).width <= 1,
      "the browser's own English file button is not shown");
    // Submitting without the letter is refused by the page.
    await page.getByRole("button", { name: /Kirim permohonan/ }).click();
    const alert = await alertOf("submit-alert");
    assert.equal(alert.reason, "sr-missing");
    assert.doesNotMatch(alert.text, /sr-missing/);
    await page.setInputFiles("#sr-file", SR_LETTER);
    assert.equal(await page.locator("#sr-name").innerText(), "surat-rekomendasi.pdf (36 B)");
    await photograph(page, "step5-csr");
  });

  test("item7_submitted_lastStepIsToComeAndSizeInBytes", async () => {
    await page.getByRole("button", { name: /Kirim permohonan/ }).click();
    const summary = page.locator("#request-summary");
    await summary.waitFor();
    const text = await summary.innerText();
    assert.match(await page.locator("#sr-summary").innerText(),
      /^surat-rekomendasi\.pdf \(36 B\)$/);
    assert.match(text, /tidak dikirim/);
    assert.match(text, /EC P-256/);
    const steps = await stepper(page);
    assert.deepEqual(steps.map((step) => step.state),
      ["done", "done", "done", "skipped", "done", "current"]);
    assert.match(steps[5].status, /menunggu penerbitan/);
    assert.doesNotMatch(await page.locator(".stepper").innerText(), /terbit dan terpasang/,
      "nothing says issued before it is");
    await photograph(page, "step6-request");
  });

  test("item8_issued_retireWarnsAboutEncryptedDocumentsWithDaysLeft", async () => {
    const [old] = await agentCertificates();
    assert.ok(old.keyUsage.includes("keyEncipherment"), "the demo's certificate can decrypt");
    await page.getByRole("button", { name: /Terbitkan \(demo CA\)/ }).click();
    const issued = page.locator("#issued-box:not([hidden])");
    await issued.waitFor();
    const text = await issued.locator("#issued").innerText();
    assert.match(text, /Siti Nurhaliza/);
    assert.match(text, /EC P-256/);
    const days = Number(await issued.locator("#issued .badge").getAttribute("data-days"));
    assert.ok(days >= 364, `the new certificate has ${days} days`);
    const steps = await stepper(page);
    assert.equal(steps[5].state, "done");
    assert.match(steps[5].status, /terbit dan terpasang/);
    const form = page.locator("#retire-form:not([hidden])");
    await form.waitFor();
    assert.equal(Number(await form.locator("#old-summary").getAttribute("data-days")),
      old.daysLeft);
    assert.match(await form.locator("#old-summary").innerText(),
      new RegExp(`masih berlaku ${old.daysLeft} hari lagi[^]*had ${old.daysLeft} days left`));
    const warning = form.locator("#retire-warning");
    assert.ok(await warning.isVisible());
    assert.match(await warning.innerText(), /tidak dapat dibuka lagi/);
    assert.match(await warning.innerText(), /can no longer be opened/);
    assert.match(await form.innerText(), /menghapusnya nanti/);
    await photograph(page, "step6-retire-warning");
  });

  test("item8_retireRequiredFields_browserCheckAsInStep5AndNothingDeleted", async () => {
    const remove = page.getByRole("button", { name: /Hapus sertifikat & kunci lama/ });
    await remove.click();
    assert.equal(await page.locator("#retire-pin").evaluate((input) =>
      input.validity.valueMissing), true, "the PIN is a required field, as in step 5");
    await page.fill("#retire-pin", USER_PIN);
    await remove.click();
    assert.equal(await page.locator("#retire-understood").evaluate((box) =>
      box.validity.valueMissing), true, "deleting a decrypting key needs the box ticked");
    assert.ok(await page.locator("#retire-alert").isHidden(), "no red alert for a form check");
    assert.equal((await agentCertificates()).length, 2, "nothing deleted");
  });

  test("item8_keepOldCertificate_noRetireAndBothListed", async () => {
    await page.getByRole("button", { name: /Simpan sertifikat lama/ }).click();
    const done = page.locator("#done-box:not([hidden])");
    await done.waitFor();
    assert.match(await done.innerText(), /tetap di token/);
    assert.equal(await page.inputValue("#retire-pin"), "", "the page does not keep the PIN");
    await photograph(page, "step6-kept");
    await page.getByRole("button", { name: /Selesai/ }).click();
    await certificateRows().nth(1).waitFor();
    assert.equal(await certificateRows().count(), 2, "the old certificate was kept");
    const renewals = await kunci.listRenewals();
    assert.deepEqual(renewals.map((renewal) => renewal.state), ["completed"]);
  });

  test("item8_renewSigningOnlyCertificate_noWarningThenDeleted", async () => {
    const [, newer] = (await agentCertificates()).sort((a, b) => a.daysLeft - b.daysLeft);
    assert.deepEqual(newer.keyUsage, ["digitalSignature", "nonRepudiation"]);
    await page.locator(`tr[data-certificate="${newer.id}"]`)
      .getByRole("button", { name: /Perbarui/ }).click();
    await page.getByRole("button", { name: /Data sudah benar/ }).click();
    await page.fill("#begin-pin", USER_PIN);
    await page.getByRole("button", { name: /Buat kunci baru/ }).click();
    await page.locator("#csr-box:not([hidden])").waitFor();
    await page.setInputFiles("#sr-file", SR_LETTER);
    await page.getByRole("button", { name: /Kirim permohonan/ }).click();
    await page.getByRole("button", { name: /Terbitkan \(demo CA\)/ }).click();
    const form = page.locator("#retire-form:not([hidden])");
    await form.waitFor();
    assert.ok(await form.locator("#retire-warning").isHidden(), "no warning for a signing key");
    assert.match(await form.locator("#old-summary").innerText(),
      new RegExp(`masih berlaku ${newer.daysLeft} hari lagi`));
    await photograph(page, "step6-retire-signing");
    await page.fill("#retire-pin", USER_PIN);
    await page.getByRole("button", { name: /Hapus sertifikat & kunci lama/ }).click();
    const done = page.locator("#done-box:not([hidden])");
    await done.waitFor();
    assert.match(await done.innerText(), /telah dihapus dari token/);
    await photograph(page, "step6-retired");
    const left = await agentCertificates();
    assert.equal(left.length, 2);
    assert.ok(!left.some((certificate) => certificate.id === newer.id), "its predecessor went");
  });

  test("step1_afterRenewals_theKeptAndTheNewestListed", async () => {
    await page.getByRole("button", { name: /Selesai/ }).click();
    await certificateRows().nth(1).waitFor();
    assert.equal(await certificateRows().count(), 2);
    assert.ok(await page.locator("#renewals-box").isHidden(), "no unfinished request left");
    assert.equal((await stepper(page))[0].state, "current");
    await photograph(page, "step1-after");
  });

  test("agent_sameStateThroughTheClient_renewalsCompletedAndRetired", async () => {
    const renewals = await kunci.listRenewals();
    assert.deepEqual(renewals.map((renewal) => renewal.state).sort(), ["completed", "retired"]);
    const own = await agentCertificates();
    for (const renewal of renewals.filter((entry) => entry.state === "completed")) {
      const installed = own.find((certificate) => certificate.id === renewal.keyId);
      assert.ok(installed, "the newest key and certificate are on the token");
      assert.equal(installed.hasPrivateKey, true);
      assert.equal(installed.key.curve, "P-256");
    }
  });

  test("page_noScriptErrors", () => {
    assert.deepEqual(pageErrors.map((error) => error.message), []);
  });
});

describe("the demo page without an agent", () => {
  let work;
  let site;
  let browser;

  before(async () => {
    work = tempDir();
    site = await servePageFiles();
    browser = await launchChromium(path.join(work.path, "profile"));
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    work?.remove();
  });

  test("agentUnavailable_howToStartTheAgentInBothLanguages", async () => {
    const page = await browser.newPage();
    await page.goto(`${site.origin}/?agent=${await closedPort()}`);
    const banner = page.locator("#banner:not([hidden])");
    await banner.locator("#retry").waitFor();
    assert.equal(await banner.getAttribute("data-cause"), "not-running");
    const help = await page.locator("#banner-help").innerText();
    assert.match(help, /systemctl --user start kunci-agent/);
    assert.match(help, /keluar lalu masuk lagi/);
    assert.match(help, /log out and in again/);
    assert.match(await page.locator("#next").innerText(), /jalankan atau pasang agen kunci/);
    await photograph(page, "agent-unavailable");
    await page.close();
  });
});
