// SPDX-License-Identifier: Apache-2.0
// The demo AMS page: the holder's steps 1-6 of the renewal SOP, driving kunci-agent through
// kunci.js. Served by `kunci-agent --demo` at / (with ./kunci.js, ./demo.js, ./demo.css beside).
// Everything read from the agent is put in the page as text (textContent), never as HTML.
import { connect, holderMessage, KunciError, tokenKeyTypes } from "./kunci.js";

const $ = (id) => document.getElementById(id);

/** An element with attributes (`class`, `data-*`, properties) and children (nodes or text). */
function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name === "class") {
      element.className = value;
    } else if (name.startsWith("on")) {
      element.addEventListener(name.slice(2), value);
    } else if (name in element && !name.startsWith("data-")) {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : value);
    }
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      element.append(child instanceof Node ? child : String(child));
    }
  }
  return element;
}

/** Indonesian text with its English on its own grey line below (one layout everywhere). */
const bi = (id, en) => [id, " ", h("span", { class: "en", lang: "en" }, en)];

// --- which agent ---------------------------------------------------------------------------

function isLoopback(hostname) {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(hostname);
}

const query = new URLSearchParams(location.search);

/** The http(s) link in `?name=URL`, else `fallback`; never a javascript: link. */
function linkParam(name, fallback = undefined) {
  try {
    const url = new URL(query.get(name) ?? "");
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : fallback;
  } catch {
    return fallback;
  }
}

/** `?install=URL`: the install link to show. */
const installLink = () => linkParam("install");

/** `?datachange=URL`: the data-change procedure (SOP step 4); by default the office that
 *  publishes the renewal SOP (Diskominfo Kota Pekalongan). */
const DATA_CHANGE_URL = linkParam("datachange", "http://kominfo.pekalongankota.go.id/");

// Served by `kunci-agent --demo`, the page's own port is the agent's; `?agent=PORT` overrides.
const agentPort =
  Number(query.get("agent")) ||
  (isLoopback(location.hostname) && location.port ? Number(location.port) : 27853);
const kunci = connect({
  port: agentPort,
  host: isLoopback(location.hostname) ? location.hostname.replace(/^\[|\]$/g, "") : "127.0.0.1",
  installUrl: installLink(),
  // The demo agent pins a demo backend key for this page's origin, so every token-changing call
  // needs a grant: here from the demo agent's own `demo.grant` (a real AMS page asks its
  // backend, which decides whether this holder may do this now).
  // Served by another agent (`?agent=PORT`, no --demo), there is no demo.grant: no grant is sent.
  grant: async (method, params) => {
    try {
      return (await kunci.call("demo.grant", { method, params })).grant;
    } catch (error) {
      if (error instanceof KunciError && error.reason === "method-not-found") {
        return undefined;
      }
      throw error;
    }
  },
});

// --- page state ----------------------------------------------------------------------------

/** Subject names the agent accepts in renewal.begin (docs/protocol-notes.md). */
const SUBJECT_NAMES = [
  "CN", "O", "OU", "title", "serialNumber", "emailAddress", "street", "L", "ST", "postalCode",
  "C", "givenName", "SN", "UID", "DC",
];
const SUBJECT_LABELS = {
  CN: ["Nama", "Name"],
  O: ["Organisasi", "Organisation"],
  OU: ["Unit kerja", "Organisational unit"],
  title: ["Jabatan", "Title"],
  serialNumber: ["Nomor identitas", "Identity number"],
  emailAddress: ["Surel", "E-mail"],
  street: ["Alamat", "Street"],
  L: ["Kota/Kabupaten", "City"],
  ST: ["Provinsi", "Province"],
  postalCode: ["Kode pos", "Postal code"],
  C: ["Negara", "Country"],
  givenName: ["Nama depan", "Given name"],
  SN: ["Nama keluarga", "Surname"],
  UID: ["UID", "UID"],
  DC: ["Domain", "Domain component"],
};

const state = {
  // agent.info's: what the agent makes; a token from an older agent may not say its own.
  keyTypes: [
    { type: "rsa", bits: 2048 },
    { type: "rsa", bits: 3072 },
    { type: "rsa", bits: 4096 },
    { type: "ec", curve: "P-256" },
    { type: "ec", curve: "P-384" },
  ],
  tokens: [],
  selected: null, // {token, certificate}
  renewal: null, // {renewal, keyId, csr, subject, key, replaces, token, tokenLabel}
  installed: false, // the renewal's new certificate is on the token
  next: null, // [id, en]: what the holder does next on this screen
  sr: null, // {name, size}: the SR upload, kept in this page only
  screen: "tokens",
};

// --- small views ---------------------------------------------------------------------------

function formatDate(iso) {
  const date = new Date(iso);
  const id = date.toLocaleDateString("id-ID", { day: "numeric", month: "long", year: "numeric" });
  const en = date.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
  return id === en ? [id] : bi(id, en);
}

function daysBadge(daysLeft) {
  if (daysLeft < 0) {
    const days = -daysLeft;
    return h("span", { class: "badge expired", "data-days": daysLeft },
      bi(`kedaluwarsa ${days} hari lalu`, `expired ${days} day${days === 1 ? "" : "s"} ago`));
  }
  const cls = daysLeft <= 30 ? "badge soon" : "badge fine";
  return h("span", { class: cls, "data-days": daysLeft },
    bi(`${daysLeft} hari lagi`, `${daysLeft} day${daysLeft === 1 ? "" : "s"} left`));
}

/** A file size as a holder reads it: 36 B, 4.2 KB, 1.3 MB. */
function formatSize(bytes) {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, "KB"] : [bytes / 1024 / 1024, "MB"];
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

function keyText(key) {
  if (!key) {
    return "—";
  }
  return key.type === "rsa" ? `RSA ${key.bits}` : `EC ${key.curve}`;
}

function cnOf(dn) {
  const match = /(?:^|[,/]\s*)CN\s*=\s*([^,/]+)/.exec(dn ?? "");
  return match ? match[1].trim() : dn;
}

/** Rows of a key/value table: [[labelId, labelEn], value] pairs. */
function fillTable(table, rows) {
  table.replaceChildren(
    ...rows.map(([label, value]) =>
      h("tr", {}, h("th", { scope: "row" }, bi(label[0], label[1])), h("td", {}, value)),
    ),
  );
}

function subjectRows(subject) {
  const names = Object.keys(subject ?? {}).sort(
    (a, b) => (SUBJECT_NAMES.indexOf(a) + 1 || 99) - (SUBJECT_NAMES.indexOf(b) + 1 || 99),
  );
  return names.map((name) => [SUBJECT_LABELS[name] ?? [name, name], subject[name]]);
}

// --- alerts, busy buttons, toasts -------------------------------------------------------------

/**
 * The holder's words for an error (kunci.js holderMessage), never its raw reason. After a wrong
 * PIN only the token's final try is news: SoftHSM and many tokens set "count low" after any
 * failure, true to the token but alarming to a holder with many tries left.
 */
function holderWords(error) {
  if (error instanceof KunciError && error.reason === "method-not-found" &&
      error.method === "demo.issue") {
    return {
      id: "Penerbitan demo hanya tersedia bila agen dijalankan dengan --demo.",
      en: "Demo issuance is only available when the agent runs with --demo.",
      reason: error.reason,
    };
  }
  if (error instanceof KunciError && error.reason === "pin-incorrect") {
    return holderMessage({ reason: error.reason,
      data: { pinFinalTry: error.data?.pinFinalTry === true } });
  }
  if (error instanceof KunciError) {
    return holderMessage(error);
  }
  console.error(error);
  return holderMessage({ reason: "unknown" });
}

/** Shows `message` ({id, en, reason}) in the alert box; the reason only as data-reason. */
function showAlert(box, message) {
  box.className = "alert error";
  box.dataset.reason = message.reason;
  box.replaceChildren(
    h("p", { lang: "id" }, message.id),
    h("p", { class: "en", lang: "en" }, message.en),
  );
  box.hidden = false;
}

function showError(box, error) {
  showAlert(box, holderWords(error));
}

function hideAlert(box) {
  box.hidden = true;
  box.replaceChildren();
  delete box.dataset.reason;
}

/** Runs `work` with the button disabled and a "working" label; errors go to `alertBox`. */
async function busy(button, label, alertBox, work) {
  const original = [...button.childNodes];
  button.disabled = true;
  button.replaceChildren(h("span", { class: "spinner", "aria-hidden": "true" }), ...label);
  if (alertBox) {
    hideAlert(alertBox);
  }
  try {
    return await work();
  } catch (error) {
    if (alertBox) {
      showError(alertBox, error);
    }
    return undefined;
  } finally {
    button.disabled = false;
    button.replaceChildren(...original);
  }
}

let toastTimer;
function toast(...content) {
  const box = $("toast");
  box.replaceChildren(...content);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, 6000);
}

// --- screens -------------------------------------------------------------------------------

const STEP_STATUS = {
  done: ["Selesai", "Done"],
  current: ["Sekarang", "Now"],
  todo: ["Belum", "Not yet"],
};
/** Why a step is in its state, where the plain word would leave the holder guessing. */
const STEP_WHY = {
  "2:todo": ["Demo: otomatis", "Demo: automatic"],
  "2:done": ["Selesai: demo menganggap Anda sudah masuk", "Done: the demo counts you as logged in"],
  "4:todo": ["Hanya bila data berubah", "Only if your data changed"],
  "4:skipped": ["Dilewati: data Anda tidak berubah", "Skipped: your data did not change"],
  "6:current": ["Sekarang: menunggu penerbitan", "Now: awaiting issuance"],
  "6:done": ["Selesai: sertifikat terbit dan terpasang", "Done: certificate issued and installed"],
};

/** Each step's state on `screen`: done, current, not yet (todo), or skipped (step 4). */
function stepStates(screen, step) {
  const states = {};
  for (let n = 1; n <= 6; n++) {
    states[n] = n < step ? "done" : n === step ? "current" : "todo";
  }
  if (step >= 5) {
    states[4] = "skipped"; // the holder said the data is correct
  }
  if (screen === "issue" && state.installed) {
    states[6] = "done";
  }
  return states;
}

function renderStepper() {
  const step = Number(document.querySelector(`#screen-${state.screen}`).dataset.step);
  const states = stepStates(state.screen, step);
  for (const item of document.querySelectorAll(".stepper li")) {
    const n = Number(item.dataset.step);
    const stepState = states[n];
    item.dataset.state = stepState;
    if (stepState === "current") {
      item.setAttribute("aria-current", "step");
    } else {
      item.removeAttribute("aria-current");
    }
    const [id, en] = STEP_WHY[`${n}:${stepState}`] ?? STEP_STATUS[stepState];
    item.querySelector(".status").replaceChildren(...bi(id, en));
    item.title = `${id} / ${en}`;
  }
}

/** Shows what the holder does next, in one line under the stepper. */
function renderNext(id, en) {
  $("next").replaceChildren(h("b", {}, "Langkah berikutnya: "), ...bi(id,
    h("span", {}, h("b", {}, "Next: "), en)));
}

/** The step's next action; shown unless the connection needs the holder first. */
function setNext(id, en) {
  state.next = [id, en];
  if (!CONNECTION_NEXT[kunci.state]) {
    renderNext(id, en);
  }
}

/** What to do next while the page cannot reach the agent: what the banner above says. */
const CONNECTION_NEXT = {
  "agent-unavailable": ["jalankan atau pasang agen kunci seperti tertulis di atas; halaman ini " +
    "tersambung sendiri.", "start or install the kunci agent as said above; this page connects " +
    "by itself."],
  blocked: ["izinkan akses jaringan lokal di browser seperti tertulis di atas.",
    "allow local network access in the browser as said above."],
};

function show(screen) {
  if (screen !== "tokens") {
    $("tokens").dataset.stale = "1"; // the renewal will change what the token holds
  }
  state.screen = screen;
  for (const section of document.querySelectorAll(".screen")) {
    section.hidden = section.id !== `screen-${screen}`;
  }
  renderStepper();
  window.scrollTo(0, 0);
}

// --- connection ------------------------------------------------------------------------------

const PILL_TEXT = {
  idle: ["…", "…"],
  connecting: ["Menghubungkan ke agen…", "Connecting to the agent…"],
  open: ["Agen kunci tersambung", "kunci agent connected"],
  "agent-unavailable": ["Agen kunci tidak tersedia", "kunci agent unavailable"],
  blocked: ["Diblokir browser", "Blocked by the browser"],
  closed: ["Terputus", "Disconnected"],
};

/** What a holder can do to start the agent, where kunci.js says it is not running. */
function startAgentHelp() {
  return h("ul", {},
    h("li", {}, bi("Windows: agen berjalan sendiri setelah Anda masuk ke Windows. Keluar lalu " +
      "masuk lagi, atau jalankan “kunci-agentw.exe” di C:\\Program Files\\kunci.",
    "Windows: the agent starts when you sign in. Sign out and in again, or run " +
      "“kunci-agentw.exe” in C:\\Program Files\\kunci.")),
    h("li", {}, bi("Linux: keluar lalu masuk lagi, atau jalankan ",
      "Linux: log out and in again, or run "),
    h("code", {}, "systemctl --user start kunci-agent")));
}

function showBanner(detail, { retry = true } = {}) {
  const banner = $("banner");
  banner.dataset.state = detail.state;
  banner.dataset.cause = detail.cause ?? "";
  // kunci.js's holder words for the state (holderMessage), in both languages.
  $("banner-id").textContent = detail.message.id;
  $("banner-en").textContent = detail.message.en;
  $("banner-help").replaceChildren(
    detail.state === "agent-unavailable" && detail.cause !== "refused" ? startAgentHelp() : "");
  const actions = [];
  if (detail.installUrl) {
    actions.push(h("a", { id: "install-link", href: detail.installUrl, target: "_blank",
      rel: "noopener" }, bi("Cara memasang agen kunci", "How to install the kunci agent")));
  }
  if (retry) {
    actions.push(h("button", { type: "button", class: "secondary", id: "retry",
      onclick: () => kunci.retryNow() }, bi("Coba lagi", "Try again")));
  }
  $("banner-actions").replaceChildren(...actions);
  banner.hidden = false;
}

kunci.on("state", (detail) => {
  const pill = $("connection");
  pill.dataset.state = detail.state;
  const [id, en] = PILL_TEXT[detail.state] ?? [detail.state, detail.state];
  $("connection-text").replaceChildren(...bi(id, en));
  const connectionNext = CONNECTION_NEXT[detail.state];
  if (connectionNext) {
    renderNext(...connectionNext);
  } else if (state.next) {
    renderNext(...state.next);
  }
  if (detail.state === "open") {
    $("banner").hidden = true;
    onConnected();
  } else if (detail.state === "agent-unavailable" || detail.state === "blocked") {
    showBanner(detail);
  } else if (detail.state === "connecting" && detail.reconnecting) {
    showBanner(detail, { retry: false });
  }
});

kunci.on("permission-prompt", (detail) => showBanner(detail, { retry: false }));

kunci.on("tokens.changed", (tokens) => {
  const before = new Map(state.tokens.map((token) => [token.id, token]));
  const after = new Map(tokens.map((token) => [token.id, token]));
  for (const [id, token] of after) {
    if (!before.has(id)) {
      toast(...bi(`Token “${token.label}” terpasang.`,
        `Token “${token.label}” plugged in.`));
    }
  }
  for (const [id, token] of before) {
    if (!after.has(id)) {
      toast(...bi(`Token “${token.label}” dicabut. Permohonan yang berjalan tetap tersimpan.`,
        `Token “${token.label}” removed. Requests under way are kept.`));
    }
  }
  state.tokens = tokens;
  if (state.screen === "tokens") {
    loadTokens();
  }
});

async function onConnected() {
  try {
    const info = await kunci.agentInfo();
    $("agent-version").textContent = `${info.name} ${info.version} · protokol ${info.protocol}`;
    if (Array.isArray(info.keyTypes) && info.keyTypes.length > 0) {
      state.keyTypes = info.keyTypes;
    }
  } catch (error) {
    console.warn("agent.info failed", error);
  }
  renderKeyTypes();
  if (state.screen === "tokens") {
    await loadTokens();
  }
}

// --- step 1: tokens and certificates ------------------------------------------------------

let loading = null;
function loadTokens() {
  // One load at a time; a request while one runs makes one more afterwards.
  if (loading) {
    loading.again = true;
    return loading.promise;
  }
  loading = { again: false };
  loading.promise = (async () => {
    try {
      do {
        loading.again = false;
        await loadTokensOnce();
      } while (loading.again);
    } finally {
      loading = null;
    }
  })();
  return loading.promise;
}

async function loadTokensOnce() {
  const alertBox = $("tokens-alert");
  hideAlert(alertBox);
  const list = $("tokens");
  // What is shown is never older than the last change the holder made.
  list.dataset.loading = "1";
  if (list.childElementCount === 0 || list.dataset.stale) {
    list.replaceChildren(h("p", { class: "fine" }, bi("Memuat…", "Loading…")));
  }
  try {
    const tokens = await kunci.listTokens();
    state.tokens = tokens;
    const cards = [];
    for (const token of tokens) {
      let certificates = [];
      let failure = null;
      try {
        certificates = await kunci.listCertificates({ token: token.id });
      } catch (error) {
        failure = error;
      }
      cards.push(tokenCard(token, certificates, failure));
    }
    if (cards.length === 0) {
      cards.push(h("div", { class: "empty" }, h("p", {}, bi(
        "Tidak ada token terpasang. Pasang token USB Anda; daftar ini diperbarui sendiri.",
        "No token is plugged in. Plug in your USB token; this list updates by itself."))));
    }
    if (state.screen === "tokens") {
      if (tokens.length === 0) {
        setNext("pasang token USB Anda.", "plug in your USB token.");
      } else {
        setNext("pada sertifikat yang akan diperbarui, klik “Perbarui”.",
          "on the certificate to renew, click “Renew”.");
      }
    }
    await loadRenewals();
    list.replaceChildren(...cards);
    delete list.dataset.stale;
  } catch (error) {
    showError(alertBox, error);
  } finally {
    delete list.dataset.loading;
  }
}

/** A table cell with its column's label, shown above the value when rows stack (narrow). */
function cell([id, en], ...value) {
  return h("td", {}, h("span", { class: "cell-label" }, bi(id, en)), ...value);
}

/** A table head row of [id, en] labels (null: an empty header). */
function tableHead(columns) {
  return h("thead", {}, h("tr", {},
    columns.map((label) => h("th", {}, label ? bi(label[0], label[1]) : null))));
}

const CERTIFICATE_COLUMNS = [["Pemilik", "Holder"], ["Penerbit", "Issuer"],
  ["Berlaku sampai", "Valid until"], ["Sisa masa berlaku", "Time left"], ["Kunci", "Key"], null];

function tokenCard(token, certificates, failure) {
  const own = certificates.filter((certificate) => certificate.id !== "");
  const authorities = certificates.filter((certificate) => certificate.id === "");
  const flags = [];
  if (token.flags.pinLocked) {
    flags.push(h("span", { class: "badge expired" }, bi("PIN terblokir", "PIN locked")));
  } else if (token.flags.pinFinalTry) {
    flags.push(h("span", { class: "badge expired" }, bi("1 percobaan PIN tersisa",
      "1 PIN try left")));
  }
  if (token.flags.writeProtected) {
    flags.push(h("span", { class: "badge soon" }, bi("Hanya-baca", "Read-only")));
  }
  const rows = own.map((certificate) =>
    h("tr", { "data-certificate": certificate.id },
      h("td", {}, h("b", {}, certificate.subject?.CN ?? certificate.subjectDN),
        h("div", { class: "fine" }, certificate.subject?.O ?? "")),
      cell(CERTIFICATE_COLUMNS[1], cnOf(certificate.issuerDN)),
      cell(CERTIFICATE_COLUMNS[2], formatDate(certificate.notAfter)),
      cell(CERTIFICATE_COLUMNS[3], daysBadge(certificate.daysLeft)),
      cell(CERTIFICATE_COLUMNS[4], keyText(certificate.key)),
      h("td", {}, h("button", {
        type: "button",
        class: certificate.daysLeft <= 30 ? "renew" : "renew secondary",
        disabled: token.flags.pinLocked || token.flags.writeProtected,
        onclick: () => startRenewal(token, certificate),
      }, bi("Perbarui", "Renew")))));
  return h("article", { class: "card token", "data-token": token.id },
    h("div", { class: "token-head" },
      h("h3", {}, token.label),
      h("span", { class: "fine" }, `${token.manufacturer} · ${token.model} · ${token.serial}`),
      ...flags),
    failure
      ? h("div", { class: "alert error", "data-reason": holderWords(failure).reason },
        h("p", {}, holderWords(failure).id), h("p", { class: "en" }, holderWords(failure).en))
      : own.length === 0
        ? h("p", { class: "fine" }, bi("Belum ada sertifikat Anda di token ini.",
          "No certificate of yours on this token yet."))
        : h("table", { class: "certificates" }, tableHead(CERTIFICATE_COLUMNS),
          h("tbody", {}, rows)),
    authorities.length > 0
      ? h("details", { class: "fine" },
        h("summary", {}, bi(`Sertifikat CA di token (${authorities.length})`,
          `CA certificates on the token (${authorities.length})`)),
        h("ul", {}, authorities.map((certificate) => h("li", {}, certificate.subjectDN))))
      : null);
}

const RENEWAL_COLUMNS = [["Nama", "Name"], ["Dibuat", "Created"], ["Status", "State"], null];

async function loadRenewals() {
  const renewals = await kunci.listRenewals();
  const open = renewals.filter(
    (r) => r.state === "awaiting-certificate" || r.state === "interrupted");
  $("renewals-box").hidden = open.length === 0;
  const pin = h("input", { type: "password", id: "cancel-pin", autocomplete: "off",
    inputMode: "numeric" });
  const alertBox = h("div", { class: "alert", hidden: true, id: "renewals-alert" });
  const rows = open.map((renewal) => {
    const stateText = renewal.state === "interrupted"
      ? bi("terhenti (dapat dibatalkan)", "interrupted (can be cancelled)")
      : bi("menunggu sertifikat", "awaiting the certificate");
    const cancel = h("button", { type: "button", class: "secondary" },
      bi("Batalkan", "Cancel"));
    cancel.addEventListener("click", () => busy(cancel, bi("Membatalkan…", "Cancelling…"),
      alertBox, async () => {
        await kunci.cancelRenewal({ renewal: renewal.renewal, pin: pin.value || undefined });
        pin.value = "";
        toast(...bi("Permohonan dibatalkan; kunci barunya dihapus dari token.",
          "Request cancelled; its new key was removed from the token."));
        await loadTokens();
      }));
    return h("tr", { "data-renewal": renewal.renewal },
      h("td", {}, h("b", {}, renewal.subject?.CN ?? ""), h("div", { class: "fine" },
        renewal.tokenLabel)),
      cell(RENEWAL_COLUMNS[1], formatDate(renewal.created)),
      cell(RENEWAL_COLUMNS[2], stateText),
      h("td", {}, h("div", { class: "row-actions" },
        renewal.state === "awaiting-certificate"
          ? h("button", { type: "button", onclick: () => resumeRenewal(renewal) },
            bi("Lanjutkan", "Continue"))
          : null,
        cancel)));
  });
  $("renewals").replaceChildren(
    h("table", { class: "certificates" }, tableHead(RENEWAL_COLUMNS), h("tbody", {}, rows)),
    h("label", { class: "pin inline" }, bi("PIN untuk membatalkan", "PIN to cancel"), pin),
    alertBox);
}

// --- step 3: check the data -----------------------------------------------------------------

function startRenewal(token, certificate) {
  state.selected = { token, certificate };
  state.renewal = null;
  state.sr = null;
  fillTable($("subject"), subjectRows(certificate.subject));
  fillTable($("current"), [
    [["Token", "Token"], token.label],
    [["Penerbit", "Issuer"], cnOf(certificate.issuerDN)],
    [["Berlaku sampai", "Valid until"], formatDate(certificate.notAfter)],
    [["Sisa masa berlaku", "Time left"], daysBadge(certificate.daysLeft)],
    [["Kunci", "Key"], keyText(certificate.key)],
  ]);
  showCheck();
}

function showCheck() {
  show("check");
  setNext("periksa data Anda. Jika benar, klik “Data sudah benar, lanjut”; jika ada yang " +
    "berubah, klik “Data saya berubah”.", "check your details. If they are correct, click " +
    "“Data is correct, continue”; if something changed, click “My data changed”.");
}

function backToTokens() {
  show("tokens");
  loadTokens();
}

$("data-change-link").href = DATA_CHANGE_URL;
$("check-back").addEventListener("click", backToTokens);
$("check-changed").addEventListener("click", () => {
  show("change");
  setNext("ajukan perubahan data lewat SOP Perubahan Data; setelah data Anda diperbarui, " +
    "mulai lagi dari langkah 1.", "request the data change under the data-change procedure; " +
    "once your details are updated, start again from step 1.");
});
$("change-back").addEventListener("click", showCheck);
$("change-done").addEventListener("click", backToTokens);

/** Step 5's form before a key is made (unlocked) or after (locked: one key per visit). */
function lockKeyForm(locked) {
  $("key-types").disabled = locked;
  $("begin-pin").disabled = locked;
  $("request-back").disabled = locked;
  $("begin").hidden = locked;
  $("begin-done").hidden = !locked;
}

function showSrFile(file) {
  const name = $("sr-name");
  if (file) {
    name.dataset.chosen = "1";
    name.replaceChildren(`${file.name} (${formatSize(file.size)})`);
  } else {
    delete name.dataset.chosen;
    name.replaceChildren(...bi("Belum ada berkas dipilih", "No file chosen"));
  }
}

$("check-ok").addEventListener("click", () => {
  $("csr-box").hidden = true;
  $("begin-pin").value = "";
  $("sr-file").value = "";
  showSrFile(null);
  hideAlert($("begin-alert"));
  hideAlert($("submit-alert"));
  lockKeyForm(false);
  $("begin").disabled = renderKeyTypes().length === 0;
  show("request");
  setNext("pilih jenis kunci, ketik PIN token, lalu klik “Buat kunci baru & CSR”.",
    "choose the key type, type the token PIN, then click “Generate new key & CSR”.");
  $("begin-pin").focus();
});

// --- step 5: new key, CSR, SR upload --------------------------------------------------------

function keySpecId(key) {
  return key.type === "rsa" ? `rsa-${key.bits}` : `ec-${key.curve}`;
}

/** The key types the selected token can make (all the agent's while none is selected). */
function offeredKeyTypes() {
  const agentInfo = { keyTypes: state.keyTypes };
  return state.selected ? tokenKeyTypes(state.selected.token, agentInfo) : state.keyTypes;
}

/** Shows the key types offeredKeyTypes() gives as the choice; returns them. */
function renderKeyTypes() {
  const fieldset = $("key-types");
  const legend = fieldset.querySelector("legend");
  const offered = offeredKeyTypes();
  const previous = fieldset.querySelector("input:checked")?.value ?? "rsa-2048";
  // The holder's choice if this token can make it, else the recommended one, else the first.
  const ids = offered.map(keySpecId);
  const current = ids.includes(previous) ? previous
    : ids.includes("rsa-2048") ? "rsa-2048" : ids[0];
  if (offered.length === 0) {
    fieldset.replaceChildren(legend, h("p", { class: "fine", id: "no-key-types" },
      bi("Token ini tidak dapat membuat jenis kunci yang didukung kunci. Gunakan token lain.",
        "This token cannot make any key type kunci supports. Use another token.")));
    return offered;
  }
  const options = offered.map((key) => {
    const value = keySpecId(key);
    const note = value === "rsa-2048"
      ? bi(" disarankan", "recommended")
      : key.type === "ec" ? bi(" lebih cepat", "faster") : "";
    return h("label", { class: "radio" },
      h("input", { type: "radio", name: "key", value, checked: value === current }),
      h("b", {}, keyText(key)), h("span", { class: "fine" }, note));
  });
  fieldset.replaceChildren(legend, ...options);
  return offered;
}

$("request-back").addEventListener("click", showCheck);

$("begin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const { token, certificate } = state.selected;
  const chosen = $("key-types").querySelector("input:checked")?.value ?? "rsa-2048";
  const key = offeredKeyTypes().find((spec) => keySpecId(spec) === chosen);
  const subject = {};
  for (const name of SUBJECT_NAMES) {
    if (typeof certificate.subject?.[name] === "string" && certificate.subject[name] !== "") {
      subject[name] = certificate.subject[name];
    }
  }
  const pinInput = $("begin-pin");
  const result = await busy($("begin"),
    bi("Membuat kunci di token…", "Generating the key on the token…"), $("begin-alert"),
    async () => {
      try {
        return await kunci.beginRenewal({
          token: token.id,
          key,
          subject,
          pin: pinInput.value || undefined,
          replaces: certificate.id || undefined,
        });
      } finally {
        pinInput.value = ""; // the PIN is not kept by the page
      }
    });
  if (!result) {
    return;
  }
  state.renewal = {
    ...result,
    subject,
    key,
    replaces: certificate.id || undefined,
    token: token.id,
    tokenLabel: token.label,
  };
  $("csr").value = result.csr;
  $("key-id").textContent = result.keyId;
  const link = $("csr-download");
  URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([result.csr], { type: "application/pkcs10" }));
  $("csr-box").hidden = false;
  lockKeyForm(true); // one renewal per visit of this screen; its key exists now
  setNext("pilih berkas Surat Rekomendasi (SR), lalu klik “Kirim permohonan”.",
    "choose the recommendation letter (SR) file, then click “Submit request”.");
});

$("sr-file").addEventListener("change", () => {
  hideAlert($("submit-alert"));
  showSrFile($("sr-file").files?.[0]);
});

$("submit").addEventListener("click", () => {
  const file = $("sr-file").files?.[0];
  if (!file) {
    showAlert($("submit-alert"), {
      id: "Pilih berkas Surat Rekomendasi (SR) terlebih dahulu.",
      en: "Choose the recommendation letter (SR) file first.",
      reason: "sr-missing",
    });
    return;
  }
  // Demo: the SR stays in this page; the real AMS uploads it with the CSR.
  state.sr = { name: file.name, size: file.size };
  hideAlert($("submit-alert"));
  showIssueScreen();
});

// --- step 6: issue, install, retire -----------------------------------------------------------

function resumeRenewal(renewal) {
  state.selected = null;
  state.sr = null;
  state.renewal = {
    renewal: renewal.renewal,
    keyId: renewal.keyId,
    csr: renewal.csr,
    subject: renewal.subject,
    replaces: renewal.replaces,
    token: renewal.token,
    tokenLabel: renewal.tokenLabel,
  };
  showIssueScreen();
}

function showIssueScreen() {
  const renewal = state.renewal;
  fillTable($("request-summary"), [
    [["Nama", "Name"], renewal.subject?.CN ?? ""],
    [["Token", "Token"], renewal.tokenLabel],
    [["Kunci baru", "New key"], renewal.key
      ? keyText(renewal.key)
      : h("code", {}, `ID ${renewal.keyId.slice(0, 16)}…`)],
    [["Nomor permohonan", "Request number"], h("code", {}, renewal.renewal)],
    [["Surat Rekomendasi", "Recommendation letter"], state.sr
      ? [h("span", { id: "sr-summary" }, `${state.sr.name} (${formatSize(state.sr.size)})`),
        h("div", { class: "fine" }, bi("Demo: disimpan di halaman ini, tidak dikirim",
          "Demo: kept in this page, not sent"))]
      : "—"],
  ]);
  hideAlert($("issue-alert"));
  $("issued-box").hidden = true;
  $("retire-form").hidden = true;
  $("done-box").hidden = true;
  $("issue").disabled = false;
  state.installed = false;
  show("issue");
  setNext("tunggu pemberitahuan bahwa sertifikat Anda terbit. Di demo ini: klik “Terbitkan " +
    "(demo CA)”.", "wait for the notice that your certificate is issued. In this demo: click " +
    "“Issue (demo CA)”.");
}

$("issue-back").addEventListener("click", backToTokens);

$("issue").addEventListener("click", async () => {
  const renewal = state.renewal;
  const installed = await busy($("issue"), bi("Menerbitkan dan memasang…",
    "Issuing and installing…"), $("issue-alert"), async () => {
    // The demo CA plays BSrE: it signs the CSR (agent --demo only).
    const issued = await kunci.call("demo.issue", { csr: renewal.csr });
    return kunci.completeRenewal({
      renewal: renewal.renewal,
      certificate: issued.certificate,
      chain: issued.chain,
    });
  });
  if (!installed) {
    return;
  }
  $("issue").disabled = true;
  state.installed = true;
  renderStepper();
  fillTable($("issued"), [
    ...subjectRows({ CN: installed.subject?.CN, O: installed.subject?.O }).filter(
      ([, value]) => value),
    [["Penerbit", "Issuer"], cnOf(installed.issuerDN)],
    [["Berlaku sampai", "Valid until"], formatDate(installed.notAfter)],
    [["Sisa masa berlaku", "Time left"], daysBadge(installed.daysLeft)],
    [["Kunci", "Key"], keyText(installed.key)],
    [["Nomor seri", "Serial number"], h("code", {}, installed.serial)],
  ]);
  $("issued-box").hidden = false;
  // On a narrow screen the new certificate and the choice about the old one are below the fold.
  $("issued-box").scrollIntoView({ block: "start" });
  if (renewal.replaces) {
    await offerRetire(renewal);
  } else {
    finish(bi("Sertifikat baru siap dipakai.", "The new certificate is ready to use."));
  }
});

/** Key usages (RFC 5280 names) that let a key open what was encrypted to its certificate. */
const DECRYPTING_USAGES = ["keyEncipherment", "dataEncipherment", "keyAgreement",
  "encipherOnly", "decipherOnly"];

/** The certificate `renewal` replaces, as certificates.list gives it; null when not listed. */
async function replacedCertificate(renewal) {
  const selected = state.selected?.certificate;
  if (selected?.id === renewal.replaces) {
    return selected;
  }
  try {
    const listed = await kunci.listCertificates({ token: renewal.token });
    return listed.find((certificate) => certificate.id === renewal.replaces) ?? null;
  } catch {
    return null;
  }
}

/**
 * The choice about the old certificate, with what it means before anything is deleted: how
 * long it was still valid (the agent's daysLeft) and, when its key could decrypt (or its
 * certificate is not listed, so nobody can say it could not), that deleting the key makes
 * documents encrypted to it unreadable. Keeping it is the first button.
 */
async function offerRetire(renewal) {
  const old = await replacedCertificate(renewal);
  const decrypts = !old || (old.keyUsage ?? []).some((usage) => DECRYPTING_USAGES.includes(usage));
  const summary = $("old-summary");
  if (old && old.daysLeft >= 0) {
    const days = old.daysLeft;
    summary.replaceChildren(...bi(
      `Sertifikat lama masih berlaku ${days} hari lagi. Sertifikat itu dan kuncinya masih ada ` +
        "di token. Hapus atau simpan?",
      `The old certificate had ${days} day${days === 1 ? "" : "s"} left. It and its key are ` +
        "still on the token. Delete or keep them?"));
    summary.dataset.days = days;
  } else {
    summary.replaceChildren(...bi(
      "Sertifikat lama dan kuncinya masih ada di token. Hapus atau simpan?",
      "The old certificate and its key are still on the token. Delete or keep them?"));
    delete summary.dataset.days;
  }
  $("retire-warning").hidden = !decrypts;
  $("retire-understood").disabled = !decrypts; // a disabled box is not a required one
  $("retire-understood").checked = false;
  $("retire-pin").value = "";
  hideAlert($("retire-alert"));
  $("retire-form").hidden = false;
  if (decrypts) {
    setNext("putuskan tentang sertifikat lama. Bila ragu, klik “Simpan sertifikat lama”.",
      "decide about the old certificate. If unsure, click “Keep the old certificate”.");
  } else {
    setNext("putuskan tentang sertifikat lama: hapus (dengan PIN token) atau simpan.",
      "decide about the old certificate: delete it (with the token PIN) or keep it.");
  }
}

// A submit: the browser's required-field check (PIN, and the warning's box) comes first, as in
// step 5.
$("retire-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const pinInput = $("retire-pin");
  const retired = await busy($("retire"), bi("Menghapus…", "Deleting…"), $("retire-alert"),
    async () => {
      try {
        return await kunci.retireRenewal({
          renewal: state.renewal.renewal,
          pin: pinInput.value || undefined,
        });
      } finally {
        pinInput.value = "";
      }
    });
  if (retired) {
    $("retire-form").hidden = true;
    finish(bi(
      "Sertifikat lama dan kuncinya telah dihapus dari token. Sertifikat baru siap dipakai.",
      "The old certificate and its key were deleted from the token. The new one is ready."));
  }
});

$("keep-old").addEventListener("click", () => {
  $("retire-form").hidden = true;
  $("retire-pin").value = "";
  finish(bi("Sertifikat lama dan kuncinya tetap di token. Anda dapat menghapusnya nanti " +
    "(perintah kunci retire atau petugas layanan). Sertifikat baru siap dipakai.",
  "The old certificate and its key stay on the token. You can delete them later (the kunci " +
    "retire command or the service desk). The new one is ready."));
});

function finish(text) {
  $("done-text").replaceChildren(...text);
  $("done-box").hidden = false;
  setNext("klik “Selesai” untuk kembali ke daftar token.", "click “Done” to go back to the " +
    "list of tokens.");
}

$("done").addEventListener("click", () => {
  state.selected = null;
  state.renewal = null;
  state.sr = null;
  state.installed = false;
  backToTokens();
});

$("reload").addEventListener("click", () => loadTokens());

show("tokens");
setNext("tunggu sampai halaman tersambung ke agen kunci.", "wait until the page connects to " +
  "the kunci agent.");
