// SPDX-License-Identifier: Apache-2.0
// Type declarations for kunci.js (the page-side client of kunci-agent, protocol version 1).
// The behaviour is documented in kunci.js and docs/page-client.md.

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION: 1;
/** The agent's default port. */
export const DEFAULT_PORT: 27853;
/** Requests over this many bytes are refused by the client (`message-too-large`). */
export const MAX_MESSAGE_BYTES: number;
/** Default time-outs per method, in milliseconds. */
export const DEFAULT_TIMEOUTS: Readonly<Record<Method, number>>;
/** Every reason {@link holderMessage} has its own words for. */
export const KNOWN_REASONS: readonly string[];

export type Method =
  | "agent.info"
  | "tokens.list"
  | "certificates.list"
  | "renewal.begin"
  | "renewal.list"
  | "renewal.complete"
  | "renewal.cancel"
  | "renewal.retire"
  | "signature.sign";

/** The protocol's application error reasons (protocol.md §3, code -32000). */
export type ProtocolReason =
  | "token-not-found"
  | "token-removed"
  | "pin-required"
  | "pin-incorrect"
  | "pin-locked"
  | "pin-final-try"
  | "user-cancelled"
  | "mechanism-unsupported"
  | "token-full"
  | "token-write-protected"
  | "renewal-not-found"
  | "renewal-state"
  | "certificate-invalid"
  | "certificate-mismatch"
  | "busy"
  | "key-not-found"
  | "token-error"
  | "grant-required"
  | "grant-invalid";

/** JSON-RPC's standard errors, named (the agent sets `invalid-params` itself). */
export type StandardReason =
  | "parse-error"
  | "invalid-request"
  | "method-not-found"
  | "invalid-params"
  | "internal-error";

/** Failures on the page's side; these errors have `code` null. */
export type ClientReason =
  | "timeout"
  | "connection-lost"
  | "agent-unavailable"
  | "blocked"
  | "closed"
  | "message-too-large";

export type Reason = ProtocolReason | StandardReason | ClientReason;

/** An error answer from the agent, or a client-side failure. Switch on `reason`. */
export class KunciError extends Error {
  readonly name: "KunciError";
  /** JSON-RPC error code (-32000 for the protocol's reasons), or null for client errors. */
  code: number | null;
  /** The stable reason; a string outside {@link Reason} if a newer agent sends one. */
  reason: Reason | (string & {});
  /**
   * The error's `data` as sent by the agent: `pinCountLow` / `pinFinalTry` for `pin-incorrect`,
   * `ckr` for `token-error`, `field` for `invalid-params`; for client errors, what the client
   * knows (`timeoutMs`, `closeCode`, the state detail).
   */
  data: any;
  /** The method of the failed call. */
  method?: string;
  constructor(
    message: string,
    details: { code?: number | null; reason: string; data?: any; method?: string },
  );
}

/** A sentence for the holder in Indonesian (`id`) and English (`en`). */
export interface HolderMessage {
  id: string;
  en: string;
  reason: string;
}

/** The words to show the holder for an error, a reason or a state detail. */
export function holderMessage(
  what: KunciError | { reason: string; data?: any } | StateDetail | string,
): HolderMessage;

/** Base64 of bytes; strings pass through unchanged. */
export function toBase64(value: string | ArrayBuffer | ArrayBufferView): string;

/** What {@link signingCode} takes: exactly one of them, as given to `sign`. */
export type SigningCodeParams =
  | { digest: string | ArrayBuffer | ArrayBufferView; data?: undefined }
  | { data: string | ArrayBuffer | ArrayBufferView; digest?: undefined };

/**
 * The signing code the agent shows in its consent prompt for the same `digest` (or `data`,
 * hashed with SHA-256): the digest's first 8 bytes as 4 groups of 4 lower-case hex digits,
 * e.g. `"0108 4714 41b7 507e"`. Show it beside the page's sign button.
 */
export function signingCode(params: SigningCodeParams): Promise<string>;

/**
 * What a page may offer for a new key on this token: `token.keyTypes`, or `agentInfo.keyTypes`
 * when the token carries none (an older agent). Empty: the token can make no supported key.
 */
export function tokenKeyTypes(token: Token, agentInfo?: AgentInfo): KeySpec[];

export type KunciState =
  | "idle"
  | "connecting"
  | "open"
  | "agent-unavailable"
  | "blocked"
  | "closed";

export interface StateDetail {
  state: KunciState;
  /** What to show the holder. */
  message: HolderMessage;
  /**
   * For `agent-unavailable`: `not-running` (nothing answers on the port, or no way to tell) or
   * `refused` (the agent answers but refused this page; only with the `probe` option). For
   * `blocked`: `permission-denied` (the browser's permission for this page to reach loopback
   * is "denied": the holder chose "Never allow", or the browser refused it) or
   * `frame-not-allowed` (the page is a frame its embedder did not give
   * `allow="local-network-access"`, so the browser cannot even ask).
   */
  cause?: "not-running" | "refused" | "permission-denied" | "frame-not-allowed";
  /**
   * The browser's permission for this page to reach loopback ("loopback-network", or
   * "local-network-access" in Chromium before 145) after the failed attempt; "unsupported"
   * where the browser has none.
   */
  permission?: "granted" | "denied" | "prompt" | "unsupported";
  /** The page's install link (the `installUrl` option), for `agent-unavailable`. */
  installUrl?: string;
  /** Failed attempts in a row (for the failure states), or 1 while connecting. */
  attempt?: number;
  /** When the next attempt is made (failure states, reconnect on). */
  retryInMs?: number;
  /** `connecting` after an open connection dropped. */
  reconnecting?: boolean;
  /** The WebSocket close code of the dropped connection. */
  closeCode?: number;
  /** A developer-facing note on the failure. */
  detail?: string;
}

export interface ConnectOptions {
  /** The agent's port (default 27853). */
  port?: number;
  /** A loopback name: `127.0.0.1` (default), `localhost` or `[::1]`. */
  host?: string;
  /** One time-out for every method, overriding {@link DEFAULT_TIMEOUTS}. */
  timeoutMs?: number;
  /** Per-method time-outs over the defaults. */
  timeouts?: Partial<Record<Method | (string & {}), number>>;
  /** Reconnect back-off: `initialMs` (500) doubling up to `maxMs` (30000); `false`: never. */
  reconnect?: { initialMs?: number; maxMs?: number } | false;
  /** The page's "install kunci" link, given back in the `agent-unavailable` detail. */
  installUrl?: string;
  /**
   * Ask the agent's port over plain HTTP after a failure, to tell `refused` from `not-running`
   * (default false: the browser logs that request's 404 or failure in the console).
   */
  probe?: boolean;
  /** How to make the WebSocket (Node: `(url) => new WebSocket(url, { origin })` from `ws`). */
  createWebSocket?: (url: string) => WebSocket;
  /** Where an exception thrown by a listener goes (default `reportError`: the console). */
  onListenerError?: (error: unknown) => void;
  /**
   * For an origin whose agent requires grants (protocol section 8): fetches from the AMS
   * backend the grant (a JWS) for one token-changing call, named by its method and params
   * (without `pin` and `allowFinalTry`). Called before each `renewal.begin`,
   * `renewal.complete`, `renewal.cancel`, `renewal.retire` and `signature.sign`; its result is
   * sent as `grant` (`undefined`: none), its error rejects the call as it is.
   */
  grant?: (method: GrantedMethod, params: Record<string, unknown>) => Promise<string | undefined>;
}

/** The methods an origin with grant keys must carry a grant for. */
export type GrantedMethod =
  | "renewal.begin"
  | "renewal.complete"
  | "renewal.cancel"
  | "renewal.retire"
  | "signature.sign";

export interface CallOptions {
  /** This call's time-out in milliseconds. */
  timeoutMs?: number;
}

export interface TokenFlags {
  loginRequired: boolean;
  protectedAuthPath: boolean;
  pinCountLow: boolean;
  pinFinalTry: boolean;
  pinLocked: boolean;
  writeProtected: boolean;
}

export interface Token {
  /** Opaque, stable across re-plugging and restarts. */
  id: string;
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  slot: { id: number; description: string };
  module: string;
  flags: TokenFlags;
  /**
   * The key types both the agent and this token can make (from the token's mechanisms), in the
   * shape of {@link AgentInfo.keyTypes}; absent from agents older than per-token key types. Use
   * {@link tokenKeyTypes} to get what to offer either way.
   */
  keyTypes?: KeySpec[];
}

export type KeySpec =
  | { type: "rsa"; bits: 2048 | 3072 | 4096 }
  | { type: "ec"; curve: "P-256" | "P-384" };

/** Short name (CN, O, OU, C, L, ST, emailAddress, serialNumber, ...) to value. */
export type Subject = Record<string, string>;

export type KeyUsage =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyEncipherment"
  | "dataEncipherment"
  | "keyAgreement"
  | "keyCertSign"
  | "cRLSign"
  | "encipherOnly"
  | "decipherOnly";

export interface Certificate {
  /** The key id (hex CKA_ID); empty for a certificate without one (e.g. a CA certificate). */
  id: string;
  label: string;
  subject: Subject;
  subjectDN: string;
  issuerDN: string;
  serial: string;
  /** RFC 3339 UTC. */
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter; negative once expired. */
  daysLeft: number;
  /** A private key with the same CKA_ID is visible (tokens hide them before login). */
  hasPrivateKey: boolean;
  key: { type: "rsa"; bits: number } | { type: "ec"; curve: string };
  /** The keyUsage extension's bits by their RFC 5280 names, in the RFC's order; empty when the
   *  certificate has no such extension. */
  keyUsage: KeyUsage[];
  sha256: string;
  pem: string;
}

export type RenewalState =
  | "interrupted"
  | "awaiting-certificate"
  | "completed"
  | "cancelled"
  | "retired";

export interface Renewal {
  renewal: string;
  token: string;
  tokenLabel: string;
  keyId: string;
  state: RenewalState;
  subject: Subject;
  created: string;
  updated: string;
  /** PEM, from `awaiting-certificate` on. */
  csr?: string;
  /** The key id of the certificate being renewed. */
  replaces?: string;
  /** The token holds the new key for signing only; false when it kept other usages (e.g.
   *  decrypt) because it refused the limits (protocol `renewal.begin`). */
  keyUsageEnforced: boolean;
}

export interface AgentInfo {
  name: "kunci-agent";
  version: string;
  protocol: number;
  modules: { path: string; description: string; manufacturer: string; libraryVersion: string }[];
  keyTypes: KeySpec[];
}

export interface BeginRenewalParams {
  token: string;
  key: KeySpec;
  subject: Subject;
  /** Omit where the agent can ask natively (pinentry, PIN pad). Never stored by the client. */
  pin?: string;
  replaces?: string;
  allowFinalTry?: boolean;
}

export interface SignParams {
  token: string;
  keyId: string;
  /** A SHA-256/384/512 hash, base64 or bytes. Exactly one of digest and data. */
  digest?: string | ArrayBuffer | ArrayBufferView;
  /** At most 768 KiB, base64 or bytes; the agent hashes it with SHA-256. */
  data?: string | ArrayBuffer | ArrayBufferView;
  algorithm?: "RSASSA-PKCS1-v1_5" | "RSA-PSS" | "ECDSA";
  /** ECDSA only: `der` (default) or `raw` (r||s, as WebCrypto). */
  format?: "der" | "raw";
  pin?: string;
  allowFinalTry?: boolean;
}

export interface KunciEvents {
  state: (detail: StateDetail) => void;
  connecting: (detail: StateDetail) => void;
  open: (detail: StateDetail) => void;
  "agent-unavailable": (detail: StateDetail) => void;
  blocked: (detail: StateDetail) => void;
  closed: (detail: StateDetail) => void;
  /**
   * The first attempt is still pending and the browser's permission is at "prompt": the
   * browser is asking the holder (show `detail.message`).
   */
  "permission-prompt": (detail: StateDetail) => void;
  /** The whole current token list (take the latest as the truth). */
  "tokens.changed": (tokens: Token[], params: { tokens: Token[] }) => void;
  notification: (method: string, params: any) => void;
}

/** A connection to kunci-agent that reconnects by itself; make it with {@link connect}. */
export class KunciClient {
  /** The WebSocket URL, e.g. `ws://127.0.0.1:27853/v1`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly installUrl?: string;
  /** The current state. */
  readonly state: KunciState;
  /** The detail of the current state (what to show the holder included). */
  readonly stateDetail: StateDetail | null;

  constructor(options?: ConnectOptions);
  /** Starts connecting; `connect()` calls it. */
  start(): this;
  /** Resolves when open; rejects with the failure state's KunciError for the current attempt. */
  ready(): Promise<this>;
  /** Tries again now instead of waiting for the back-off. */
  retryNow(): void;
  /** Closes for good: pending calls reject with `closed`; nothing reconnects. */
  close(): void;

  on<E extends keyof KunciEvents>(event: E, listener: KunciEvents[E]): () => void;
  on(event: string, listener: (...args: any[]) => void): () => void;
  off<E extends keyof KunciEvents>(event: E, listener: KunciEvents[E]): void;
  off(event: string, listener: (...args: any[]) => void): void;

  /** Any method, raw result (e.g. `demo.issue` in the agent's demo mode). */
  call<T = any>(method: string, params?: object, options?: CallOptions): Promise<T>;

  agentInfo(options?: CallOptions): Promise<AgentInfo>;
  listTokens(options?: CallOptions): Promise<Token[]>;
  listCertificates(
    params: { token: string; pin?: string },
    options?: CallOptions,
  ): Promise<Certificate[]>;
  beginRenewal(
    params: BeginRenewalParams,
    options?: CallOptions,
  ): Promise<{ renewal: string; keyId: string; csr: string }>;
  listRenewals(options?: CallOptions): Promise<Renewal[]>;
  completeRenewal(
    params: {
      renewal: string;
      certificate: string;
      chain?: string[];
      pin?: string;
      allowFinalTry?: boolean;
    },
    options?: CallOptions,
  ): Promise<Certificate>;
  cancelRenewal(
    params: { renewal: string; pin?: string; allowFinalTry?: boolean },
    options?: CallOptions,
  ): Promise<Renewal>;
  retireRenewal(
    params: { renewal: string; pin?: string; allowFinalTry?: boolean },
    options?: CallOptions,
  ): Promise<Renewal>;
  sign(
    params: SignParams,
    options?: CallOptions,
  ): Promise<{ signature: string; algorithm: string; certificate?: string }>;
}

/** Returns a client at once; it connects in the background and reconnects by itself. */
export function connect(options?: ConnectOptions): KunciClient;
