#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// A reference grant issuer for AMS backends (docs/grants.md): signs one kunci grant with Node's
// built-in crypto, nothing to install.
//
//   node issue-grant.mjs --key backend-key.pem --origin https://ams.example.id \
//       --method signature.sign --params '{"token":"...","keyId":"...","digest":"..."}' \
//       [--holder "Siti Rahayu"] [--lifetime 120]
//
// prints the grant (a JWS in compact form) for the page to send as the request's "grant".
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

// Never part of a grant's params: the agent leaves them out of its comparison too.
const NOT_GRANTED = new Set(["grant", "pin", "allowFinalTry"]);

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
const compactJson = (value) => Buffer.from(JSON.stringify(value), "utf8");

// What the agent shows for the pinned public key: SHA-256 of its DER SubjectPublicKeyInfo.
function fingerprint(privateKey) {
    const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
    return createHash("sha256").update(spki).digest("hex");
}

export function issueGrant(privateKey, origin, method, params, holder, lifetime = 120) {
    let alg;
    if (privateKey.asymmetricKeyType === "ed25519") {
        alg = "EdDSA";
    } else if (privateKey.asymmetricKeyType === "ec" &&
               privateKey.asymmetricKeyDetails.namedCurve === "prime256v1") {
        alg = "ES256";
    } else {
        throw new Error("a grant key is ECDSA P-256 or Ed25519");
    }
    if (!(lifetime > 0 && lifetime <= 600)) {
        throw new Error("a grant is valid for 1 to 600 seconds");
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = {
        aud: "kunci",
        origin,
        method,
        params: Object.fromEntries(Object.entries(params).filter(([name]) => !NOT_GRANTED.has(name))),
        nonce: b64url(randomBytes(16)),
        iat: now,
        exp: now + lifetime,
    };
    if (holder !== undefined) {
        claims.holder = holder;
    }
    const header = { alg, kid: fingerprint(privateKey) };
    const signingInput = `${b64url(compactJson(header))}.${b64url(compactJson(claims))}`;
    const data = Buffer.from(signingInput, "ascii");
    // ES256 in JWS is r || s (IEEE P1363), not DER: dsaEncoding says so.
    const signature = alg === "EdDSA"
        ? sign(null, data, privateKey)
        : sign("sha256", data, { key: privateKey, dsaEncoding: "ieee-p1363" });
    return `${signingInput}.${b64url(signature)}`;
}

const { values } = parseArgs({
    options: {
        key: { type: "string" },
        origin: { type: "string" },
        method: { type: "string" },
        params: { type: "string" },
        holder: { type: "string" },
        lifetime: { type: "string", default: "120" },
    },
});
for (const required of ["key", "origin", "method", "params"]) {
    if (values[required] === undefined) {
        console.error(`issue-grant.mjs: --${required} is required`);
        process.exit(2);
    }
}
const privateKey = createPrivateKey(readFileSync(values.key));
console.log(issueGrant(privateKey, values.origin, values.method, JSON.parse(values.params),
                       values.holder, Number(values.lifetime)));
