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

/** Indonesian text with its English beside. */
const bi = (id, en) => [id, " ", h("span", { class: "en", lang: "en" }, en)];

// --- which agent ---------------------------------------------------------------------------

function isLoopback(hostname) {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(hostname);
}

const query = new URLSearchParams(location.search);

/** `?install=URL`: the install link to show; only http(s), never a javascript: link. */
function installLink() {
  try {
    const url = new URL(query.get("install") ?? "");
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

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

function showError(box, error) {
  let message;
  if (error instanceof KunciError && error.reason === "method-not-found" &&
      error.method === "demo.issue") {
    message = {
      id: "Penerbitan demo hanya tersedia bila agen dijalankan dengan --demo.",
      en: "Demo issuance is only available when the agent runs with --demo.",
      reason: error.reason,
    };
  } else if (error instanceof KunciError) {
    message = holderMessage(error);
  } else {
    message = holderMessage({ reason: "unknown" });
    console.error(error);
  }
  box.className = "alert error";
  box.dataset.reason = message.reason;
  box.replaceChildren(
    h("p", { lang: "id" }, message.id),
    h("p", { class: "en", lang: "en" }, message.en),
    h("p", { class: "reason" }, h("code", {}, message.reason)),
  );
  box.hidden = false;
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

function show(screen) {
  if (screen !== "tokens") {
    $("tokens").dataset.stale = "1"; // the renewal will change what the token holds
  }
  state.screen = screen;
  let step = 1;
  for (const section of document.querySelectorAll(".screen")) {
    const active = section.id === `screen-${screen}`;
    section.hidden = !active;
    if (active) {
      step = Number(section.dataset.step);
    }
  }
  for (const item of document.querySelectorAll(".stepper li")) {
    const n = Number(item.dataset.step);
    item.classList.toggle("current", n === step);
    // Step 2 (log in) is done by being here; step 4 only applies when data changed.
    item.classList.toggle("done", n < step && n !== 4);
  }
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

function showBanner(detail, { retry = true } = {}) {
  const banner = $("banner");
  banner.dataset.state = detail.state;
  banner.dataset.cause = detail.cause ?? "";
  $("banner-id").textContent = detail.message.id;
  $("banner-en").textContent = detail.message.en;
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
    await loadRenewals();
    list.replaceChildren(...cards);
    delete list.dataset.stale;
  } catch (error) {
    showError(alertBox, error);
  } finally {
    delete list.dataset.loading;
  }
}

function tokenCard(token, certificates, failure) {
  const own = certificates.filter((certificate) => certificate.id !== "");
  const authorities = certificates.filter((certificate) => certificate.id === "");
  const flags = [];
  if (token.flags.pinLocked) {
    flags.push(h("span", { class: "badge expired" }, bi("PIN terblokir", "PIN locked")));
  } else if (token.flags.pinFinalTry) {
    flags.push(h("span", { class: "badge expired" }, bi("1 percobaan PIN tersisa",
      "1 PIN try left")));
  } else if (token.flags.pinCountLow) {
    flags.push(h("span", { class: "badge soon" }, bi("Sisa percobaan PIN sedikit",
      "Few PIN tries left")));
  }
  if (token.flags.writeProtected) {
    flags.push(h("span", { class: "badge soon" }, bi("Hanya-baca", "Read-only")));
  }
  const rows = own.map((certificate) =>
    h("tr", { "data-certificate": certificate.id },
      h("td", {}, h("b", {}, certificate.subject?.CN ?? certificate.subjectDN),
        h("div", { class: "fine" }, certificate.subject?.O ?? "")),
      h("td", {}, cnOf(certificate.issuerDN)),
      h("td", {}, formatDate(certificate.notAfter)),
      h("td", {}, daysBadge(certificate.daysLeft)),
      h("td", {}, keyText(certificate.key)),
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
      ? h("div", { class: "alert error" }, h("p", {}, holderMessage(failure).id),
        h("p", { class: "en" }, holderMessage(failure).en))
      : own.length === 0
        ? h("p", { class: "fine" }, bi("Belum ada sertifikat Anda di token ini.",
          "No certificate of yours on this token yet."))
        : h("table", { class: "certificates" },
          h("thead", {}, h("tr", {},
            h("th", {}, bi("Pemilik", "Holder")),
            h("th", {}, bi("Penerbit", "Issuer")),
            h("th", {}, bi("Berlaku sampai", "Valid until")),
            h("th", {}, bi("Sisa masa berlaku", "Time left")),
            h("th", {}, bi("Kunci", "Key")),
            h("th", {}))),
          h("tbody", {}, rows)),
    authorities.length > 0
      ? h("details", { class: "fine" },
        h("summary", {}, bi(`Sertifikat CA di token (${authorities.length})`,
          `CA certificates on the token (${authorities.length})`)),
        h("ul", {}, authorities.map((certificate) => h("li", {}, certificate.subjectDN))))
      : null);
}

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
      h("td", {}, formatDate(renewal.created)),
      h("td", {}, stateText),
      h("td", {}, h("div", { class: "row-actions" },
        renewal.state === "awaiting-certificate"
          ? h("button", { type: "button", onclick: () => resumeRenewal(renewal) },
            bi("Lanjutkan", "Continue"))
          : null,
        cancel)));
  });
  $("renewals").replaceChildren(
    h("table", { class: "certificates" },
      h("thead", {}, h("tr", {}, h("th", {}, bi("Nama", "Name")),
        h("th", {}, bi("Dibuat", "Created")), h("th", {}, bi("Status", "State")), h("th", {}))),
      h("tbody", {}, rows)),
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
  $("data-change").hidden = true;
  show("check");
}

$("check-back").addEventListener("click", () => {
  show("tokens");
  loadTokens();
});
$("check-changed").addEventListener("click", () => {
  $("data-change").hidden = false;
});
$("check-ok").addEventListener("click", () => {
  $("csr-box").hidden = true;
  $("begin-pin").value = "";
  $("sr-file").value = "";
  hideAlert($("begin-alert"));
  hideAlert($("submit-alert"));
  $("begin").disabled = renderKeyTypes().length === 0;
  show("request");
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

$("request-back").addEventListener("click", () => show("check"));

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
  $("begin").disabled = true; // one renewal per visit of this screen
});

$("sr-file").addEventListener("change", () => hideAlert($("submit-alert")));

$("submit").addEventListener("click", () => {
  const file = $("sr-file").files?.[0];
  if (!file) {
    const box = $("submit-alert");
    box.className = "alert error";
    box.dataset.reason = "sr-missing";
    box.replaceChildren(
      h("p", {}, "Pilih berkas Surat Rekomendasi (SR) terlebih dahulu."),
      h("p", { class: "en" }, "Choose the Surat Rekomendasi (SR) file first."));
    box.hidden = false;
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
      ? [`${state.sr.name} (${Math.max(1, Math.round(state.sr.size / 1024))} KB) `,
        h("span", { class: "fine" }, bi("disimpan lokal, tidak dikirim",
          "kept locally, not sent"))]
      : "—"],
  ]);
  hideAlert($("issue-alert"));
  $("issued-box").hidden = true;
  $("retire-box").hidden = true;
  $("done-box").hidden = true;
  $("issue").disabled = false;
  show("issue");
}

$("issue-back").addEventListener("click", () => {
  show("tokens");
  loadTokens();
});

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
  if (renewal.replaces) {
    $("retire-pin").value = "";
    hideAlert($("retire-alert"));
    $("retire-box").hidden = false;
    $("retire-pin").focus();
  } else {
    finish(bi("Sertifikat baru siap dipakai.", "The new certificate is ready to use."));
  }
});

$("retire").addEventListener("click", async () => {
  const pinInput = $("retire-pin");
  const retired = await busy($("retire"), bi("Menghapus…", "Removing…"), $("retire-alert"),
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
    $("retire-box").hidden = true;
    finish(bi(
      "Sertifikat lama dan kuncinya telah dihapus dari token. Sertifikat baru siap dipakai.",
      "The old certificate and its key were removed from the token. The new one is ready."));
  }
});

$("keep-old").addEventListener("click", () => {
  $("retire-box").hidden = true;
  finish(bi("Sertifikat lama tetap di token; Anda dapat menghapusnya nanti.",
    "The old certificate stays on the token; you can remove it later."));
});

function finish(text) {
  $("done-text").replaceChildren(...text);
  $("done-box").hidden = false;
}

$("done").addEventListener("click", () => {
  state.selected = null;
  state.renewal = null;
  state.sr = null;
  show("tokens");
  loadTokens();
});

$("reload").addEventListener("click", () => loadTokens());

show("tokens");
