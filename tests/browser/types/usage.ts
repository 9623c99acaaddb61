// SPDX-License-Identifier: Apache-2.0
// How an AMS developer's TypeScript uses kunci.js: this must type-check against kunci.d.ts
// (types.test.mjs runs tsc --strict on it).
import {
  connect,
  holderMessage,
  KunciError,
  signingCode,
  tokenKeyTypes,
  type AgentInfo,
  type Certificate,
  type KeySpec,
  type KunciClient,
  type Renewal,
  type StateDetail,
  type Token,
} from "../../../ipc/client/kunci.js";

export async function renew(): Promise<Renewal | undefined> {
  const kunci: KunciClient = connect({
    port: 27853,
    installUrl: "https://ams.example.id/bantuan/kunci",
    reconnect: { initialMs: 250, maxMs: 10_000 },
    timeouts: { "renewal.begin": 600_000 },
  });
  const stop = kunci.on("state", (detail: StateDetail) => {
    const text: string = `${detail.message.id} / ${detail.message.en}`;
    if (detail.state === "agent-unavailable" && detail.cause === "refused") {
      console.warn(text, detail.installUrl ?? "");
    }
  });
  kunci.on("tokens.changed", (tokens: Token[]) => console.log(tokens.length));
  await kunci.ready();
  const tokens: Token[] = await kunci.listTokens();
  const token = tokens[0];
  if (!token || token.flags.pinLocked) {
    return undefined;
  }
  // Offer only what this token can make (the agent's own list for an older agent's token).
  const info: AgentInfo = await kunci.agentInfo();
  const offered: KeySpec[] = tokenKeyTypes(token, info);
  const perToken: KeySpec[] | undefined = token.keyTypes;
  const key: KeySpec | undefined = offered.find((spec) => spec.type === "ec") ?? perToken?.[0];
  if (!key) {
    return undefined;
  }
  const certificates: Certificate[] = await kunci.listCertificates({ token: token.id });
  const old = certificates.find((c) => c.id !== "" && c.daysLeft < 30);
  try {
    const begun = await kunci.beginRenewal({
      token: token.id,
      key,
      subject: old?.subject ?? { CN: "Siti Nurhaliza" },
      replaces: old?.id,
    });
    const issued = await kunci.call<{ certificate: string; chain: string[] }>("demo.issue", {
      csr: begun.csr,
    });
    const installed: Certificate = await kunci.completeRenewal({
      renewal: begun.renewal,
      certificate: issued.certificate,
      chain: issued.chain,
    });
    console.log(installed.notAfter);
    // The code the agent's consent prompt shows, beside the page's button.
    const digest = new Uint8Array(32);
    const code: string = await signingCode({ digest });
    console.log(code, await signingCode({ data: "aGFsbw==" }));
    if (detailOf(kunci)?.cause === "frame-not-allowed") {
      return undefined;
    }
    const signature = await kunci.sign({
      token: token.id,
      keyId: begun.keyId,
      digest,
      algorithm: "ECDSA",
      format: "raw",
    });
    console.log(signature.signature.length);
    return await kunci.retireRenewal({ renewal: begun.renewal });
  } catch (error) {
    if (error instanceof KunciError) {
      const code: number | null = error.code;
      const words = holderMessage(error);
      console.error(code, error.reason, words.id, words.en);
    }
    return undefined;
  } finally {
    stop();
    kunci.close();
  }
}

/** The client's last state detail, as a page's banner reads it. */
function detailOf(kunci: KunciClient): StateDetail | null {
  return kunci.stateDetail;
}
