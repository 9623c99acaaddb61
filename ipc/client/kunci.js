// SPDX-License-Identifier: Apache-2.0
/**
 * kunci.js: the page-side client of kunci-agent (protocol version 1).
 *
 * A dependency-free ES module for the AMS page (or any page the agent allows). It opens the
 * agent's WebSocket on 127.0.0.1, gives one promise-returning function per protocol method,
 * turns error answers into {@link KunciError}s carrying the protocol's `reason`, reconnects with
 * back-off, and tells the page, in words it can show the holder (Indonesian and English), whether
 * the agent is not running / not installed or the browser blocked the connection.
 *
 * ```js
 * import { connect, holderMessage } from "./kunci.js";
 * const kunci = connect({ installUrl: "https://ams.example.id/kunci" });
 * kunci.on("agent-unavailable", (s) => showBanner(s.message.id, s.installUrl));
 * kunci.on("tokens.changed", (tokens) => render(tokens));
 * const tokens = await kunci.listTokens();
 * ```
 *
 * The contract is protocol.md; what the client adds (client-side reasons, how it tells
 * "blocked" from "agent-unavailable", time-outs) is described in docs/page-client.md.
 *
 * @module kunci
 */

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION = 1;

/** The agent's default port (kunci's documented default). */
export const DEFAULT_PORT = 27853;

/** The agent refuses (closes with 1009) messages over 1 MiB; the client refuses them first. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Default time-outs per method, in milliseconds. A time-out only stops the page waiting: the
 * agent may still finish the work (see {@link KunciError} reason `timeout`). Methods that may
 * wait for the holder (a native PIN prompt, a PIN pad, a confirmation) or for a slow key
 * generation on a smart card (RSA 4096 can take minutes) get long ones.
 * @type {Readonly<Record<string, number>>}
 */
export const DEFAULT_TIMEOUTS = Object.freeze({
  "agent.info": 10_000,
  "tokens.list": 15_000,
  "renewal.list": 15_000,
  "certificates.list": 60_000,
  "renewal.begin": 300_000,
  "renewal.complete": 120_000,
  "renewal.cancel": 120_000,
  "renewal.retire": 120_000,
  "signature.sign": 180_000,
});

/** Time-out for a method not in {@link DEFAULT_TIMEOUTS} (e.g. `demo.issue` through `call`). */
const FALLBACK_TIMEOUT_MS = 60_000;

/** How long the first connection may stay pending before the page is told a prompt may show. */
const PROMPT_HINT_MS = 2_500;

/** How long the "is the agent there at all?" HTTP probe may take. */
const PROBE_TIMEOUT_MS = 3_000;

/** The reasons JSON-RPC's standard errors get when the answer carries no `data.reason`. */
const STANDARD_REASONS = Object.freeze({
  "-32700": "parse-error",
  "-32600": "invalid-request",
  "-32601": "method-not-found",
  "-32602": "invalid-params",
  "-32603": "internal-error",
});

/**
 * An error answer from the agent, or a failure on the page's side of the connection.
 *
 * Pages switch on `reason`, never on `message`:
 * - the protocol's reasons (`token-not-found`, `pin-incorrect`, `busy`, ... see protocol.md §3),
 *   with `code` -32000 and `data` as the agent sent it (e.g. `data.pinFinalTry`, `data.ckr`);
 * - JSON-RPC's standard errors: `parse-error`, `invalid-request`, `method-not-found`,
 *   `invalid-params` (`data.field` names the field), `internal-error`, with their codes;
 * - the client's own, with `code` null: `timeout` (no answer in time; the agent may still
 *   finish), `connection-lost` (the connection dropped before the answer; the agent may have
 *   finished), `agent-unavailable`, `blocked`, `closed` (see the states of {@link KunciClient}),
 *   `message-too-large` (the request would exceed 1 MiB; nothing was sent).
 *
 * `message` is an English sentence for developers and logs; for the holder use
 * {@link holderMessage}.
 */
export class KunciError extends Error {
  /**
   * @param {string} message
   * @param {{code?: number|null, reason: string, data?: any, method?: string}} details
   */
  constructor(message, { code = null, reason, data, method } = { reason: "unknown" }) {
    super(message);
    this.name = "KunciError";
    /** @type {number|null} JSON-RPC error code, or null for the client's own errors. */
    this.code = code;
    /** @type {string} The stable reason to switch on. */
    this.reason = reason;
    /** @type {any} The error's `data` as the agent sent it (undefined for client errors). */
    this.data = data;
    /** @type {string|undefined} The method of the failed call. */
    this.method = method;
  }
}

// ---------------------------------------------------------------------------------------------
// Words for the holder.

/**
 * What the holder is told, per reason: `id` Indonesian, `en` English. Functions get the error's
 * `data` (and the client's state detail) to add what the agent reported.
 * @type {Record<string, {id: string|((d: any) => string), en: string|((d: any) => string)}>}
 */
/** A sentence with a detail (a ckr, a reason) in brackets after its start, when there is one. */
const withDetail = (start, detail, rest) => start + (detail ? ` (${detail})` : "") + rest;

const HOLDER_WORDS = {
  // Protocol reasons (protocol.md §3).
  "token-not-found": {
    id: "Token tidak ditemukan. Pastikan token USB Anda terpasang, lalu coba lagi.",
    en: "The token was not found. Make sure your USB token is plugged in, then try again.",
  },
  "token-removed": {
    id:
      "Token dicabut saat proses berjalan. Tidak ada yang tercatat selesai: pasang kembali " +
      "token, lalu ulangi langkah ini.",
    en:
      "The token was removed during the operation. Nothing was recorded as done: plug it " +
      "back in, then repeat this step.",
  },
  "pin-required": {
    id: "PIN token diperlukan untuk langkah ini. Masukkan PIN Anda, lalu coba lagi.",
    en: "Your token's PIN is needed for this step. Enter your PIN, then try again.",
  },
  // Calm unless the token reports the final try: many tokens (SoftHSM among them) set "count
  // low" after any wrong PIN, which would alarm a holder after one typo.
  "pin-incorrect": {
    id: (d) =>
      "PIN salah." +
      (d?.pinFinalTry
        ? " Tinggal satu kali percobaan: jika salah lagi, token akan terkunci."
        : " Periksa PIN Anda, lalu coba lagi."),
    en: (d) =>
      "Wrong PIN." +
      (d?.pinFinalTry
        ? " One try is left: if the next PIN is wrong, the token locks."
        : " Check your PIN, then try again."),
  },
  "pin-locked": {
    id:
      "PIN token terblokir karena terlalu sering salah. Hubungi petugas layanan sertifikat " +
      "elektronik untuk membuka blokirnya.",
    en:
      "The token's PIN is blocked after too many wrong tries. Contact the electronic " +
      "certificate service desk to unblock it.",
  },
  "pin-final-try": {
    id:
      "Token hanya mengizinkan satu percobaan PIN lagi; jika salah, token terkunci. Periksa " +
      "PIN Anda dengan cermat, lalu setujui percobaan terakhir.",
    en:
      "The token allows only one more PIN try; if it is wrong, the token locks. Check your " +
      "PIN carefully, then agree to the final try.",
  },
  "user-cancelled": {
    id: "Anda membatalkan permintaan PIN atau konfirmasi. Tidak ada yang diubah.",
    en: "You cancelled the PIN prompt or the confirmation. Nothing was changed.",
  },
  "mechanism-unsupported": {
    id:
      "Token Anda tidak dapat membuat jenis kunci ini. Pilih jenis kunci lain (misalnya " +
      "RSA 2048).",
    en: "Your token cannot make this key type. Choose another key type (for example RSA 2048).",
  },
  "token-full": {
    id:
      "Memori token penuh. Hapus sertifikat lama yang tidak dipakai lagi (atau hubungi " +
      "petugas), lalu coba lagi.",
    en:
      "The token is full. Remove an old certificate you no longer use (or contact the " +
      "service desk), then try again.",
  },
  "token-write-protected": {
    id: "Token dalam mode hanya-baca, sehingga tidak dapat diubah.",
    en: "The token is read-only, so it cannot be changed.",
  },
  "renewal-not-found": {
    id:
      "Permohonan pembaruan ini tidak ada di komputer ini. Mungkin dibuat di komputer lain: " +
      "lanjutkan dari komputer tersebut.",
    en:
      "This renewal request is not on this computer. It may have been made on another " +
      "computer: continue from that one.",
  },
  "renewal-state": {
    id:
      "Permohonan pembaruan ini sudah selesai atau dibatalkan, sehingga langkah ini tidak " +
      "dapat dilakukan lagi. Muat ulang daftar permohonan.",
    en:
      "This renewal request is already completed or cancelled, so this step cannot be done " +
      "again. Reload the list of requests.",
  },
  "certificate-invalid": {
    id:
      "Berkas sertifikat tidak dapat dibaca (bukan sertifikat X.509). Unduh ulang " +
      "sertifikat dari AMS, lalu coba lagi.",
    en:
      "The certificate file cannot be read (it is not an X.509 certificate). Download the " +
      "certificate from AMS again, then try again.",
  },
  "certificate-mismatch": {
    id:
      "Sertifikat ini bukan untuk kunci baru di token Anda. Pasang sertifikat yang " +
      "diterbitkan untuk permohonan ini. Token tidak diubah.",
    en:
      "This certificate does not belong to the new key on your token. Install the " +
      "certificate issued for this request. The token was not changed.",
  },
  busy: {
    id: "Token sedang dipakai untuk proses lain. Tunggu sebentar, lalu coba lagi.",
    en: "The token is busy with another operation. Wait a moment, then try again.",
  },
  "key-not-found": {
    id:
      "Kunci yang diperlukan tidak ada di token ini. Pastikan token yang benar terpasang " +
      "dan PIN yang dimasukkan benar.",
    en:
      "The key needed is not on this token. Make sure the right token is plugged in and " +
      "the right PIN was given.",
  },
  "token-error": {
    id: (d) =>
      withDetail(
        "Token mengalami kesalahan",
        d?.ckr,
        ". Cabut lalu pasang kembali token, kemudian coba lagi; jika berulang, hubungi petugas.",
      ),
    en: (d) =>
      withDetail(
        "The token reported an error",
        d?.ckr,
        ". Unplug the token and plug it back in, then try again; if it repeats, contact the " +
          "service desk.",
      ),
  },
  // Section 8: the AMS backend grants each token-changing call. Neither is the holder's doing.
  "grant-required": {
    id:
      "Permintaan ini harus disetujui oleh server AMS terlebih dahulu, dan persetujuan itu " +
      "tidak ada. Muat ulang halaman AMS, lalu coba lagi. Token tidak diubah.",
    en:
      "This request must first be approved by the AMS server, and that approval is missing. " +
      "Reload the AMS page, then try again. The token was not changed.",
  },
  "grant-invalid": {
    id:
      "Persetujuan server AMS untuk permintaan ini tidak sah atau sudah kedaluwarsa. Muat " +
      "ulang halaman AMS, lalu coba lagi; jika berulang, hubungi petugas. Token tidak diubah.",
    en:
      "The AMS server's approval for this request is not valid or has expired. Reload the " +
      "AMS page, then try again; if it repeats, contact the service desk. The token was not " +
      "changed.",
  },
  // JSON-RPC standard errors: the page's fault or the agent's, never the holder's.
  "invalid-params": {
    id: (d) =>
      "Halaman mengirim permintaan yang tidak sesuai" +
      (d?.field ? ` (kolom ${d.field})` : "") +
      ". Ini kesalahan halaman, bukan Anda: laporkan ke petugas.",
    en: (d) =>
      "The page sent a request the agent does not accept" +
      (d?.field ? ` (field ${d.field})` : "") +
      ". This is the page's fault, not yours: report it to the service desk.",
  },
  "parse-error": {
    id: "Halaman mengirim pesan yang rusak ke agen kunci. Muat ulang halaman.",
    en: "The page sent a damaged message to the kunci agent. Reload the page.",
  },
  "invalid-request": {
    id: "Halaman mengirim permintaan yang tidak sah ke agen kunci. Muat ulang halaman.",
    en: "The page sent an invalid request to the kunci agent. Reload the page.",
  },
  "method-not-found": {
    id: "Agen kunci di komputer ini tidak mengenal permintaan ini. Perbarui agen kunci.",
    en: "The kunci agent on this computer does not know this request. Update the agent.",
  },
  "internal-error": {
    id: "Agen kunci mengalami kesalahan internal. Coba lagi; jika berulang, hubungi petugas.",
    en:
      "The kunci agent had an internal error. Try again; if it repeats, contact the service " +
      "desk.",
  },
  // The client's own.
  timeout: {
    id:
      "Agen kunci tidak menjawab tepat waktu. Proses mungkin masih berjalan: periksa daftar " +
      "permohonan sebelum mengulang.",
    en:
      "The kunci agent did not answer in time. The operation may still be running: check " +
      "the list of requests before repeating it.",
  },
  "connection-lost": {
    id:
      "Sambungan ke agen kunci terputus sebelum jawaban diterima. Proses mungkin sudah " +
      "selesai: periksa daftar permohonan setelah tersambung kembali.",
    en:
      "The connection to the kunci agent dropped before the answer came. The operation may " +
      "have finished: check the list of requests once reconnected.",
  },
  "message-too-large": {
    id: "Data yang dikirim terlalu besar (lebih dari 1 MiB). Tidak ada yang dikirim.",
    en: "The data to send is too large (over 1 MiB). Nothing was sent.",
  },
  closed: {
    id: "Sambungan ke agen kunci sudah ditutup oleh halaman ini.",
    en: "This page has closed its connection to the kunci agent.",
  },
  connecting: {
    id: "Menghubungkan ke agen kunci di komputer Anda…",
    en: "Connecting to the kunci agent on your computer…",
  },
  open: {
    id: "Tersambung ke agen kunci di komputer Anda.",
    en: "Connected to the kunci agent on your computer.",
  },
  "agent-unavailable": {
    id: (d) =>
      d?.cause === "refused"
        ? "Agen kunci berjalan di komputer ini, tetapi menolak halaman ini: alamat situs ini " +
          "belum diizinkan dalam pengaturan agen, atau terlalu banyak halaman tersambung. " +
          "Hubungi petugas layanan."
        : "Agen kunci tidak berjalan atau belum terpasang di komputer ini. Pasang atau " +
          "jalankan agen kunci; halaman ini akan tersambung dengan sendirinya. Jika agen " +
          "sudah berjalan, mungkin alamat situs ini belum diizinkan dalam pengaturannya: " +
          "hubungi petugas layanan.",
    en: (d) =>
      d?.cause === "refused"
        ? "The kunci agent is running on this computer but refused this page: the site's " +
          "address is not allowed in the agent's settings, or too many pages are connected. " +
          "Contact the service desk."
        : "The kunci agent is not running or not installed on this computer. Install or " +
          "start it; this page will connect by itself. If it is already running, its " +
          "settings may not allow this site's address: contact the service desk.",
  },
  // The quoted English labels are Chromium 156's own (its prompt and site setting); the
  // Indonesian labels are ours, for a browser shown in Indonesian.
  blocked: {
    id: (d) =>
      d?.cause === "frame-not-allowed"
        ? "Halaman ini dimuat di dalam halaman lain yang tidak mengizinkannya menghubungi " +
          "agen kunci, sehingga browser tidak dapat meminta izin Anda. Ini kesalahan " +
          "pengaturan situs, bukan Anda: laporkan ke petugas layanan."
        : "Browser memblokir halaman ini untuk menghubungi agen kunci di komputer Anda. " +
          "Saat browser bertanya apakah situs ini boleh \u201cmengakses aplikasi dan layanan " +
          "lain di perangkat ini\u201d (Access other apps and services on this device), pilih " +
          "\u201cIzinkan saat mengunjungi situs\u201d (Allow while visiting the site). Jika " +
          "Anda sudah memilih \u201cJangan izinkan\u201d (Never allow): klik ikon di sebelah " +
          "kiri alamat situs, ubah izin itu menjadi \u201cIzinkan\u201d (Allow), lalu muat " +
          "ulang halaman.",
    en: (d) =>
      d?.cause === "frame-not-allowed"
        ? "This page is embedded in another page that does not let it reach the kunci " +
          "agent, so the browser cannot ask for your permission. This is the site's setup, " +
          "not your fault: report it to the service desk."
        : "The browser blocked this page from reaching the kunci agent on your computer. " +
          "When the browser asks whether this site may \u201cAccess other apps and services " +
          "on this device\u201d, choose \u201cAllow while visiting the site\u201d. If you " +
          "chose \u201cNever allow\u201d: click the icon left of the site's address, set " +
          "that permission to \u201cAllow\u201d, then reload the page.",
  },
  "permission-prompt": {
    id:
      "Browser bertanya apakah situs ini boleh \u201cmengakses aplikasi dan layanan lain di " +
      "perangkat ini\u201d (Access other apps and services on this device). Pilih " +
      "\u201cIzinkan saat mengunjungi situs\u201d (Allow while visiting the site): yang " +
      "dihubungi hanyalah agen kunci di komputer Anda sendiri.",
    en:
      "The browser is asking whether this site may \u201cAccess other apps and services on " +
      "this device\u201d. Choose \u201cAllow while visiting the site\u201d: what it reaches " +
      "is only the kunci agent on your own computer.",
  },
};

const GENERIC_WORDS = {
  id: (d) =>
    withDetail("Terjadi kesalahan", d?.reason, ". Coba lagi; jika berulang, hubungi petugas."),
  en: (d) =>
    withDetail(
      "Something went wrong",
      d?.reason,
      ". Try again; if it repeats, contact the service desk.",
    ),
};

/** Every reason {@link holderMessage} has its own words for. */
export const KNOWN_REASONS = Object.freeze(Object.keys(HOLDER_WORDS));

/**
 * The sentence to show the holder for an error, a reason, or a state detail, in Indonesian
 * (`id`) and English (`en`). Unknown reasons get a generic sentence naming the reason.
 * @param {KunciError|{reason: string, data?: any}|string} what
 * @returns {{id: string, en: string, reason: string}}
 */
export function holderMessage(what) {
  let reason;
  let data;
  if (typeof what === "string") {
    reason = what;
  } else if (what && typeof what === "object") {
    reason = what.reason ?? what.state;
    data = what.data ?? what;
  }
  const words = Object.prototype.hasOwnProperty.call(HOLDER_WORDS, reason)
    ? HOLDER_WORDS[reason]
    : null;
  const pick = (text, fallback) =>
    typeof text === "function" ? text(data) : (text ?? fallback({ reason }));
  if (!words) {
    return { id: GENERIC_WORDS.id({ reason }), en: GENERIC_WORDS.en({ reason }), reason };
  }
  return { id: pick(words.id, GENERIC_WORDS.id), en: pick(words.en, GENERIC_WORDS.en), reason };
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/**
 * The names Chromium gives the permission for a page to reach 127.0.0.1, most specific first:
 * "loopback-network" since Chromium 145 split the permission, "local-network-access" (the
 * umbrella name, Chromium 142 to 144, still answered by 156). Other browsers throw for both.
 */
const LOOPBACK_PERMISSION_NAMES = ["loopback-network", "local-network-access"];

/**
 * The browser's permission for this page to reach loopback: its state ("unsupported" when the
 * browser has no such permission) and, when there is one, the PermissionStatus to watch.
 * Reading it makes no request and logs nothing.
 * @returns {Promise<{state: "granted"|"denied"|"prompt"|"unsupported", status?: any}>}
 */
async function loopbackPermission() {
  const permissions = globalThis.navigator?.permissions;
  if (!permissions || typeof permissions.query !== "function") {
    return { state: "unsupported" };
  }
  for (const name of LOOPBACK_PERMISSION_NAMES) {
    try {
      const status = await permissions.query({ name });
      if (status && typeof status.state === "string") {
        return { state: status.state, status };
      }
    } catch {
      // Unknown permission name in this browser: try the next.
    }
  }
  return { state: "unsupported" };
}

/**
 * Whether this page is a frame its embedder did not allow to reach the local network (no
 * `allow="local-network-access"` on the iframe): the browser then reads the permission
 * "denied" and never asks the holder. False where the browser cannot say.
 */
function frameNotAllowed() {
  const policy = globalThis.document?.featurePolicy ?? globalThis.document?.permissionsPolicy;
  if (!policy || typeof policy.allowsFeature !== "function" || globalThis.top === globalThis) {
    return false;
  }
  try {
    return LOOPBACK_PERMISSION_NAMES.every((name) => !policy.allowsFeature(name));
  } catch {
    return false;
  }
}

function byteLength(text) {
  if (typeof TextEncoder !== "undefined") {
    return new TextEncoder().encode(text).length;
  }
  return text.length * 3; // worst case without an encoder
}

/**
 * Base64 of bytes (for `signature.sign`'s `digest` / `data`). Strings pass through.
 * @param {string|ArrayBuffer|ArrayBufferView} value
 */
export function toBase64(value) {
  if (typeof value === "string" || value === undefined || value === null) {
    return value;
  }
  const bytes = toBytes(value);
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** The bytes of a base64 string, an ArrayBuffer or a typed array. */
function toBytes(value) {
  if (typeof value === "string") {
    const binary = atob(value);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }
  if (value instanceof ArrayBuffer) {
    return new Uint8Array(value);
  }
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  throw new TypeError("expected a base64 string, an ArrayBuffer or a typed array");
}

/** How many bytes of the signed digest the signing code shows. */
const SIGNING_CODE_BYTES = 8;

/**
 * The signing code of a `signature.sign` call: the first 8 bytes of the digest that is signed,
 * as 16 lower-case hex digits in 4 groups of 4 (`"0108 4714 41b7 507e"`). The agent shows the
 * same code in its consent prompt; the page shows it beside its button so that the holder
 * compares like with like. Give the same `digest` or `data` as to {@link KunciClient#sign}:
 * `data` is hashed with SHA-256 (WebCrypto), as the agent does.
 * @param {SigningCodeParams} params
 * @returns {Promise<string>}
 */
export async function signingCode(params) {
  const { digest, data } = params ?? {};
  if ((digest === undefined) === (data === undefined)) {
    throw new TypeError("signingCode needs exactly one of digest and data");
  }
  const signed =
    digest !== undefined
      ? toBytes(digest)
      : new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", toBytes(data)));
  if (signed.length < SIGNING_CODE_BYTES) {
    throw new TypeError(`a digest has at least ${SIGNING_CODE_BYTES} bytes`);
  }
  const hex = Array.from(signed.subarray(0, SIGNING_CODE_BYTES), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
  return hex.match(/.{4}/g).join(" ");
}

/** The params object without undefined members (JSON would drop them anyway). */
function clean(params) {
  if (params === undefined || params === null) {
    return undefined;
  }
  const out = {};
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) {
      out[key] = value;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The client.

/**
 * @typedef {"idle"|"connecting"|"open"|"agent-unavailable"|"blocked"|"closed"} KunciState
 */

/**
 * A connection to kunci-agent that reconnects by itself. Create it with {@link connect}.
 *
 * States and the events announcing them (each listener gets a {@link StateDetail}):
 * - `connecting`: the first attempt, and after an open connection dropped;
 * - `open`: connected; calls are sent;
 * - `agent-unavailable`: the connection failed before it opened and the browser's permission
 *   does not say it blocked it: the agent is not running or not installed (`cause`
 *   "not-running"), or, with the `probe` option only, it is running but refused this page
 *   (`cause` "refused": origin not allowed, another user's agent, too many connections);
 *   `installUrl` is the page's install link;
 * - `blocked`: the browser refused the connection: its permission for this page to reach
 *   loopback (Chromium's Local Network Access) is denied (`cause` "permission-denied"), or the
 *   page is a frame its embedder did not allow (`cause` "frame-not-allowed");
 * - `closed`: {@link KunciClient#close} was called; nothing reconnects.
 * While `agent-unavailable` or `blocked`, the client keeps retrying with back-off, silently:
 * the next event is `open` (or the other failure state, if the diagnosis changes); a change of
 * the browser's permission (the holder allowed it) retries at once.
 *
 * Also: `state` (every change), `permission-prompt` (the first attempt is pending and the
 * browser's permission is at "prompt": the browser is probably asking the holder),
 * `tokens.changed` (listener gets the token list, then the whole params), `notification`
 * (any notification: method, params).
 */
/**
 * The key types a page may offer for a new key on `token`: the token's own `keyTypes` (what both
 * the agent and this token can make, from `tokens.list` or `tokens.changed`), or, when the token
 * carries none (an agent older than per-token key types), `agentInfo.keyTypes`. An empty array
 * means this token can make no key type the agent supports: offer another token.
 * @param {Token} token
 * @param {AgentInfo} [agentInfo]
 * @returns {KeySpec[]}
 */
export function tokenKeyTypes(token, agentInfo) {
  if (Array.isArray(token?.keyTypes)) {
    return token.keyTypes;
  }
  return Array.isArray(agentInfo?.keyTypes) ? agentInfo.keyTypes : [];
}

export class KunciClient {
  /** @param {ConnectOptions} options */
  constructor(options = {}) {
    const reconnect = options.reconnect === false ? null : (options.reconnect ?? {});
    this.port = Number(options.port ?? DEFAULT_PORT);
    this.host = options.host ?? "127.0.0.1";
    const bracketed = this.host.includes(":") && !this.host.startsWith("[");
    this.url = `ws://${bracketed ? `[${this.host}]` : this.host}:${this.port}/v1`;
    this.installUrl = options.installUrl;
    this._timeoutMs = options.timeoutMs;
    this._timeouts = { ...DEFAULT_TIMEOUTS, ...(options.timeouts ?? {}) };
    this._reconnect = reconnect
      ? { initialMs: reconnect.initialMs ?? 500, maxMs: reconnect.maxMs ?? 30_000 }
      : null;
    this._createWebSocket = options.createWebSocket ?? ((url) => new globalThis.WebSocket(url));
    this._probe = options.probe ?? false;
    this._grant = options.grant;
    this._onListenerError =
      options.onListenerError ??
      ((error) => {
        if (typeof globalThis.reportError === "function") {
          globalThis.reportError(error); // the console and window "error", like any page error
        } else {
          setTimeout(() => {
            throw error;
          });
        }
      });
    /** @type {KunciState} */
    this.state = "idle";
    /** @type {StateDetail|null} */
    this.stateDetail = null;
    this._listeners = new Map();
    this._pending = new Map(); // id -> {method, resolve, reject, timer, text?}
    this._queue = []; // ids waiting for the connection to open
    this._nextId = 1;
    this._socket = null;
    this._attempt = 0; // guards async work of an attempt that was superseded
    this._failures = 0;
    this._retryTimer = null;
    this._promptTimer = null;
    this._readyWaiters = [];
    this._opening = false; // the permission is being read before a socket is made
    this._notGated = false; // a connection opened without the permission granted
    this._permissionStatus = null;
    this._onPermissionChange = () => {
      if (this.state === "blocked" || this.state === "agent-unavailable") {
        this.retryNow();
      }
    };
  }

  // --- events -------------------------------------------------------------------------------

  /**
   * Listens for an event; returns a function that stops listening.
   * @param {string} event
   * @param {(...args: any[]) => void} listener
   * @returns {() => void}
   */
  on(event, listener) {
    if (!this._listeners.has(event)) {
      this._listeners.set(event, new Set());
    }
    this._listeners.get(event).add(listener);
    return () => this.off(event, listener);
  }

  /** Stops a listener added with {@link KunciClient#on}. */
  off(event, listener) {
    this._listeners.get(event)?.delete(listener);
  }

  _emit(event, ...args) {
    for (const listener of [...(this._listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (error) {
        // A page's listener that throws must not break the client: report it out of band.
        this._onListenerError(error);
      }
    }
  }

  _setState(state, extra = {}) {
    const detail = { state, ...extra };
    if (state === "agent-unavailable" && this.installUrl) {
      detail.installUrl = this.installUrl;
    }
    detail.message = holderMessage({ reason: state, data: detail });
    const changed =
      this.state !== state ||
      (this.stateDetail?.cause ?? null) !== (detail.cause ?? null);
    this.state = state;
    this.stateDetail = detail;
    if (state === "open") {
      for (const waiter of this._readyWaiters.splice(0)) {
        waiter.resolve(this);
      }
    } else if (state === "agent-unavailable" || state === "blocked" || state === "closed") {
      const error = this._stateError(state);
      for (const waiter of this._readyWaiters.splice(0)) {
        waiter.reject(error);
      }
      for (const id of this._queue.splice(0)) {
        this._settle(id, null, error);
      }
    }
    if (changed) {
      this._emit(state, detail);
      this._emit("state", detail);
    }
  }

  _stateError(state) {
    const detail = this.stateDetail ?? { state };
    const sentences = {
      "agent-unavailable":
        detail.cause === "refused"
          ? "kunci-agent refused this page (origin not allowed, or too many connections)"
          : "kunci-agent is not running or not installed",
      blocked: "the browser blocked the connection to kunci-agent (local network access)",
      closed: "the connection to kunci-agent was closed by the page",
    };
    return new KunciError(sentences[state] ?? state, {
      reason: state,
      data: { ...detail, message: undefined },
    });
  }

  // --- connection ---------------------------------------------------------------------------

  /** Starts connecting (connect() calls it). */
  start() {
    if (this.state === "idle") {
      this._setState("connecting", { attempt: 1 });
      this._open();
    }
    return this;
  }

  /**
   * Resolves once the connection is open; rejects with a {@link KunciError} (`agent-unavailable`,
   * `blocked`, `closed`) when the attempt under way fails. The client keeps retrying: call it
   * again, or listen for `open`.
   * @returns {Promise<KunciClient>}
   */
  ready() {
    if (this.state === "open") {
      return Promise.resolve(this);
    }
    if (this.state === "closed") {
      return Promise.reject(this._stateError("closed"));
    }
    return new Promise((resolve, reject) => this._readyWaiters.push({ resolve, reject }));
  }

  /** Tries to connect now instead of waiting for the back-off (e.g. a "Coba lagi" button). */
  retryNow() {
    if (this.state === "closed" || this.state === "open") {
      return;
    }
    if (this._opening || (this._socket && this._socket.readyState === 0)) {
      return; // an attempt is already under way
    }
    clearTimeout(this._retryTimer);
    this._retryTimer = null;
    this._open();
  }

  /** Closes the connection for good: pending calls reject with `closed`, nothing reconnects. */
  close() {
    if (this.state === "closed") {
      return;
    }
    this._attempt++;
    clearTimeout(this._retryTimer);
    clearTimeout(this._promptTimer);
    this._permissionStatus?.removeEventListener("change", this._onPermissionChange);
    this._permissionStatus = null;
    const socket = this._socket;
    this._socket = null;
    this._setState("closed");
    for (const id of [...this._pending.keys()]) {
      this._settle(id, null, this._stateError("closed"));
    }
    if (socket) {
      socket.onopen = socket.onclose = socket.onmessage = null;
      // Closing a socket still connecting fires an error; it is expected, not a failure.
      socket.onerror = () => {};
      try {
        socket.close(1000);
      } catch {
        // already closing
      }
    }
  }

  _open() {
    const attempt = ++this._attempt;
    this._opening = true;
    // The permission is read before the socket is made: a state that turns from "prompt" to
    // "denied" during the attempt is the browser saying it asked, and was refused.
    loopbackPermission().then(({ state, status }) => {
      if (attempt === this._attempt) {
        this._watchPermission(status);
        this._openSocket(attempt, state);
      }
    });
  }

  _openSocket(attempt, permissionBefore) {
    this._opening = false;
    let socket;
    try {
      socket = this._createWebSocket(this.url);
    } catch (error) {
      // e.g. a Content-Security-Policy that forbids ws://127.0.0.1: the page itself blocks it.
      this._failedBeforeOpen(attempt, permissionBefore, String(error?.message ?? error));
      return;
    }
    this._socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (attempt !== this._attempt) {
        return;
      }
      opened = true;
      clearTimeout(this._promptTimer);
      this._failures = 0;
      this._noteOpenedWithoutGrant();
      this._setState("open");
      for (const id of this._queue.splice(0)) {
        this._send(id);
      }
    };
    socket.onmessage = (event) => {
      if (attempt === this._attempt) {
        this._receive(typeof event.data === "string" ? event.data : String(event.data));
      }
    };
    socket.onerror = () => {
      // The close event follows and carries what little the browser tells.
    };
    socket.onclose = (event) => {
      if (attempt !== this._attempt) {
        return;
      }
      clearTimeout(this._promptTimer);
      this._socket = null;
      if (opened) {
        this._dropped(event?.code);
      } else {
        this._failedBeforeOpen(
          attempt,
          permissionBefore,
          `closed before open (code ${event?.code})`,
        );
      }
    };
    if (this.state === "connecting" && permissionBefore === "prompt" && !this._notGated) {
      // A connection to loopback that stays pending is the browser waiting for the holder.
      clearTimeout(this._promptTimer);
      this._promptTimer = setTimeout(async () => {
        if (attempt !== this._attempt || opened) {
          return;
        }
        const { state: permission } = await loopbackPermission();
        if (attempt === this._attempt && !opened && permission === "prompt") {
          const detail = { state: this.state, permission };
          detail.message = holderMessage("permission-prompt");
          this._emit("permission-prompt", detail);
        }
      }, PROMPT_HINT_MS);
    }
  }

  /**
   * A connection that opens while the permission is not "granted" shows that the browser does
   * not gate this page (its address space is loopback or it is exempt): "denied" then says
   * nothing about a later failure.
   */
  async _noteOpenedWithoutGrant() {
    const { state } = await loopbackPermission();
    if (state !== "granted" && state !== "unsupported") {
      this._notGated = true;
    }
  }

  /** Retries at once when the holder changes the permission (e.g. allows it in site settings). */
  _watchPermission(status) {
    if (!status || status === this._permissionStatus || !status.addEventListener) {
      return;
    }
    this._permissionStatus?.removeEventListener("change", this._onPermissionChange);
    this._permissionStatus = status;
    status.addEventListener("change", this._onPermissionChange);
  }

  _dropped(code) {
    // Calls in flight may or may not have been carried out: the page must check.
    for (const id of [...this._pending.keys()]) {
      const entry = this._pending.get(id);
      if (entry.sent) {
        this._settle(
          id,
          null,
          new KunciError(`connection to kunci-agent lost during ${entry.method}`, {
            reason: "connection-lost",
            method: entry.method,
            data: { closeCode: code },
          }),
        );
      }
    }
    if (!this._reconnect) {
      this._setState("agent-unavailable", { cause: "not-running", closeCode: code });
      return;
    }
    this._setState("connecting", { attempt: 1, reconnecting: true, closeCode: code });
    this._scheduleRetry(this._reconnect.initialMs);
  }

  async _failedBeforeOpen(attempt, permissionBefore, why) {
    // The browser tells a page nothing about why a WebSocket failed (no status, the same close
    // code 1006 for "connection refused", "HTTP 403" and "blocked by the browser"), and logs
    // the failure itself. What can be told apart without a request of its own is the
    // permission: docs/page-client.md says how, and where that ends.
    const { state: permission } = await loopbackPermission();
    if (attempt !== this._attempt) {
      return;
    }
    let state = "agent-unavailable";
    let cause = "not-running";
    const askedAndRefused = permissionBefore === "prompt" && permission === "denied";
    // Chromium reads "denied" on every non-secure page, gated or not: no diagnosis there.
    const deniedHere =
      permission === "denied" && globalThis.isSecureContext !== false && !this._notGated;
    if (askedAndRefused || deniedHere) {
      state = "blocked";
      cause = frameNotAllowed() ? "frame-not-allowed" : "permission-denied";
    }
    // Opt-in, and not while the permission is at "prompt" (the probe could raise a prompt of
    // its own): a plain request that gets an answer shows the browser let it through, so the
    // WebSocket was refused by the agent. The browser logs the probe's 404 or failure.
    const answered = this._probe && permission !== "prompt" && (await this._agentAnswersHttp());
    if (attempt !== this._attempt) {
      return;
    }
    if (answered) {
      state = "agent-unavailable";
      cause = "refused";
    }
    this._failures++;
    const extra = { cause, permission, attempt: this._failures, detail: why };
    if (this._reconnect) {
      extra.retryInMs = Math.min(
        this._reconnect.maxMs,
        this._reconnect.initialMs * 2 ** Math.min(this._failures - 1, 30),
      );
    }
    this._setState(state, extra);
    if (this._reconnect && this.state === state) {
      this._scheduleRetry(extra.retryInMs);
    }
  }

  /** Whether anything answers plain HTTP on the agent's port (a response, not an error). */
  async _agentAnswersHttp() {
    if (typeof globalThis.fetch !== "function") {
      return false;
    }
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const timer = setTimeout(() => controller?.abort(), PROBE_TIMEOUT_MS);
    try {
      const host = this.url.slice("ws://".length, this.url.indexOf("/v1"));
      // no-cors: an opaque answer is enough to know someone answered; nothing is read.
      await globalThis.fetch(`http://${host}/`, {
        mode: "no-cors",
        cache: "no-store",
        credentials: "omit",
        signal: controller?.signal,
      });
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  _scheduleRetry(delayMs) {
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      if (this.state !== "closed" && this.state !== "open") {
        this._open();
      }
    }, delayMs);
  }

  // --- calls --------------------------------------------------------------------------------

  /**
   * Calls any method (e.g. `demo.issue` in the agent's demo mode) and resolves with its raw
   * `result`.
   * @param {string} method
   * @param {object} [params]
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<any>}
   */
  call(method, params, options = {}) {
    if (["closed", "agent-unavailable", "blocked"].includes(this.state)) {
      const error = this._stateError(this.state);
      error.method = method;
      return Promise.reject(error);
    }
    const id = this._nextId++;
    const message = { jsonrpc: "2.0", id, method };
    const cleaned = clean(params);
    if (cleaned !== undefined) {
      message.params = cleaned;
    }
    const text = JSON.stringify(message);
    if (byteLength(text) > MAX_MESSAGE_BYTES) {
      return Promise.reject(
        new KunciError(`${method} request exceeds 1 MiB; not sent`, {
          reason: "message-too-large",
          method,
        }),
      );
    }
    const timeoutMs =
      options.timeoutMs ?? this._timeoutMs ?? this._timeouts[method] ?? FALLBACK_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._queue = this._queue.filter((queued) => queued !== id);
        this._settle(
          id,
          null,
          new KunciError(`kunci-agent did not answer ${method} within ${timeoutMs} ms`, {
            reason: "timeout",
            method,
            data: { timeoutMs },
          }),
        );
      }, timeoutMs);
      // The text (which may hold a PIN) is kept only until it is sent.
      this._pending.set(id, { method, resolve, reject, timer, text, sent: false });
      if (this.state === "open") {
        this._send(id);
      } else {
        this._queue.push(id);
      }
    });
  }

  _send(id) {
    const entry = this._pending.get(id);
    if (!entry) {
      return;
    }
    try {
      this._socket.send(entry.text);
      entry.sent = true;
    } catch (error) {
      this._settle(
        id,
        null,
        new KunciError(`could not send ${entry.method}: ${error?.message ?? error}`, {
          reason: "connection-lost",
          method: entry.method,
        }),
      );
    } finally {
      entry.text = undefined;
    }
  }

  _settle(id, result, error) {
    const entry = this._pending.get(id);
    if (!entry) {
      return;
    }
    this._pending.delete(id);
    clearTimeout(entry.timer);
    entry.text = undefined;
    if (error) {
      entry.reject(error);
    } else {
      entry.resolve(result);
    }
  }

  _receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return; // the agent only sends JSON; nothing to answer
    }
    if (!message || typeof message !== "object" || Array.isArray(message)) {
      return;
    }
    if (typeof message.method === "string" && message.id === undefined) {
      if (message.method === "tokens.changed") {
        this._emit("tokens.changed", message.params?.tokens ?? [], message.params);
      }
      this._emit("notification", message.method, message.params);
      return;
    }
    const entry = this._pending.get(message.id);
    if (!entry) {
      return; // late answer to a call that timed out, or an error with id null
    }
    if (message.error) {
      const { code, message: text2, data } = message.error;
      const reason =
        (data && typeof data.reason === "string" && data.reason) ||
        STANDARD_REASONS[String(code)] ||
        "unknown";
      this._settle(
        message.id,
        null,
        new KunciError(typeof text2 === "string" ? text2 : reason, {
          code: typeof code === "number" ? code : null,
          reason,
          data,
          method: entry.method,
        }),
      );
    } else {
      this._settle(message.id, message.result);
    }
  }

  /**
   * A token-changing call: with the page's `grant` option, its grant fetched from the AMS
   * backend first (for exactly the params sent, without `pin`, `allowFinalTry` and `grant`),
   * then the call with `grant` added (none when it resolves with undefined). An error of the
   * grant function rejects the call as it is.
   */
  async _callGranted(method, params, options) {
    if (typeof this._grant !== "function") {
      return this.call(method, params, options);
    }
    const sent = clean(params) ?? {};
    const { pin: _pin, allowFinalTry: _allowFinalTry, grant: _grant, ...named } = sent;
    const grant = await this._grant(method, named);
    return this.call(method, { ...sent, grant }, options);
  }

  // --- the protocol's methods ---------------------------------------------------------------

  /** `agent.info`. @returns {Promise<AgentInfo>} */
  agentInfo(options) {
    return this.call("agent.info", undefined, options);
  }

  /** `tokens.list`, unwrapped. @returns {Promise<Token[]>} */
  async listTokens(options) {
    return (await this.call("tokens.list", undefined, options)).tokens;
  }

  /**
   * `certificates.list`, unwrapped. `pin` only for tokens that hide certificates before login
   * (and to see `hasPrivateKey` true).
   * @param {{token: string, pin?: string}} params
   * @returns {Promise<Certificate[]>}
   */
  async listCertificates(params, options) {
    return (await this.call("certificates.list", params, options)).certificates;
  }

  /**
   * `renewal.begin`: generates the new key pair on the token and returns the CSR.
   * @param {BeginRenewalParams} params
   * @returns {Promise<{renewal: string, keyId: string, csr: string}>}
   */
  beginRenewal(params, options) {
    return this._callGranted("renewal.begin", params, options);
  }

  /** `renewal.list`, unwrapped. @returns {Promise<Renewal[]>} */
  async listRenewals(options) {
    return (await this.call("renewal.list", undefined, options)).renewals;
  }

  /**
   * `renewal.complete`: installs the issued certificate (and chain); returns it as listed.
   * @param {{renewal: string, certificate: string, chain?: string[], pin?: string}} params
   * @returns {Promise<Certificate>}
   */
  async completeRenewal(params, options) {
    return (await this._callGranted("renewal.complete", params, options)).certificate;
  }

  /**
   * `renewal.cancel`: deletes the renewal's new key pair. @returns {Promise<Renewal>}
   * @param {{renewal: string, pin?: string, allowFinalTry?: boolean}} params
   */
  async cancelRenewal(params, options) {
    return (await this._callGranted("renewal.cancel", params, options)).renewal;
  }

  /**
   * `renewal.retire`: deletes the certificate and key pair the renewal replaced.
   * @param {{renewal: string, pin?: string, allowFinalTry?: boolean}} params
   * @returns {Promise<Renewal>}
   */
  async retireRenewal(params, options) {
    return (await this._callGranted("renewal.retire", params, options)).renewal;
  }

  /**
   * `signature.sign`. `digest` / `data` may be base64 strings or bytes (ArrayBuffer, typed
   * array), which are sent as base64.
   * @param {SignParams} params
   * @returns {Promise<{signature: string, algorithm: string, certificate?: string}>}
   */
  sign(params, options) {
    const { digest, data, ...rest } = params ?? {};
    return this._callGranted(
      "signature.sign",
      { ...rest, digest: toBase64(digest), data: toBase64(data) },
      options,
    );
  }
}

/**
 * Connects to kunci-agent and returns the client at once; it connects in the background and
 * reconnects by itself. Calls made before the connection opens wait for it (within their
 * time-out); calls made while the agent is unavailable or blocked reject at once.
 * @param {ConnectOptions} [options]
 * @returns {KunciClient}
 */
export function connect(options = {}) {
  return new KunciClient(options).start();
}

/**
 * @typedef {object} ConnectOptions
 * @property {number} [port=27853] The agent's port.
 * @property {string} [host="127.0.0.1"] A loopback name: `127.0.0.1`, `localhost` or `[::1]`.
 * @property {number} [timeoutMs] One time-out for every method (overrides the defaults).
 * @property {Record<string, number>} [timeouts] Per-method time-outs over the defaults.
 * @property {{initialMs?: number, maxMs?: number}|false} [reconnect] Back-off (500 ms doubling
 *   up to 30 s by default); `false` to never reconnect.
 * @property {string} [installUrl] The page's "how to install kunci" link, given back in the
 *   `agent-unavailable` state detail.
 * @property {boolean} [probe=false] After a failed connection, whether to ask the agent's port
 *   over plain HTTP to tell "not running" from "refused this page". The browser logs that
 *   request's 404 or failure in the console, hence off unless the page asks.
 * @property {(url: string) => WebSocket} [createWebSocket] How to make the socket (Node: the
 *   `ws` package, giving it an `origin`).
 * @property {(error: unknown) => void} [onListenerError] Where an exception thrown by one of
 *   the page's listeners goes (default: `reportError`, i.e. the console, never the client).
 * @property {(method: string, params: object) => Promise<string|undefined>} [grant] For an
 *   origin whose agent requires grants (protocol section 8): fetches from the AMS backend the
 *   grant (a JWS) for one token-changing call, named by its method and params (without `pin`,
 *   `allowFinalTry`); called before each `renewal.begin`, `renewal.complete`, `renewal.cancel`,
 *   `renewal.retire` and `signature.sign`; undefined sends none. The page never makes a grant
 *   itself.
 */

/**
 * @typedef {object} StateDetail
 * @property {KunciState} state
 * @property {{id: string, en: string, reason: string}} message What to show the holder.
 * @property {"not-running"|"refused"|"permission-denied"|"frame-not-allowed"} [cause]
 * @property {"granted"|"denied"|"prompt"|"unsupported"} [permission]
 * @property {string} [installUrl]
 * @property {number} [attempt]
 * @property {number} [retryInMs]
 */

/**
 * @typedef {{id: string, label: string, manufacturer: string, model: string, serial: string,
 *   slot: {id: number, description: string}, module: string, flags: {loginRequired: boolean,
 *   protectedAuthPath: boolean, pinCountLow: boolean, pinFinalTry: boolean, pinLocked: boolean,
 *   writeProtected: boolean}, keyTypes?: KeySpec[]}} Token
 * @typedef {{id: string, label: string, subject: Record<string, string>, subjectDN: string,
 *   issuerDN: string, serial: string, notBefore: string, notAfter: string, daysLeft: number,
 *   hasPrivateKey: boolean, key: {type: "rsa"|"ec", bits?: number, curve?: string},
 *   sha256: string, pem: string}} Certificate
 * @typedef {{renewal: string, token: string, tokenLabel: string, keyId: string,
 *   state: "interrupted"|"awaiting-certificate"|"completed"|"cancelled"|"retired",
 *   subject: Record<string, string>, created: string, updated: string, csr?: string,
 *   replaces?: string}} Renewal
 * @typedef {{name: string, version: string, protocol: number, modules: {path: string,
 *   description: string, manufacturer: string, libraryVersion: string}[],
 *   keyTypes: KeySpec[]}} AgentInfo
 * @typedef {{type: "rsa", bits: 2048|3072|4096}|{type: "ec", curve: "P-256"|"P-384"}} KeySpec
 * @typedef {{token: string, key: KeySpec, subject: Record<string, string>, pin?: string,
 *   replaces?: string, allowFinalTry?: boolean}} BeginRenewalParams
 * @typedef {{digest?: string|ArrayBuffer|ArrayBufferView,
 *   data?: string|ArrayBuffer|ArrayBufferView}} SigningCodeParams
 * @typedef {{token: string, keyId: string, digest?: string|ArrayBuffer|ArrayBufferView,
 *   data?: string|ArrayBuffer|ArrayBufferView,
 *   algorithm?: "RSASSA-PKCS1-v1_5"|"RSA-PSS"|"ECDSA", format?: "der"|"raw", pin?: string,
 *   allowFinalTry?: boolean}} SignParams
 */
