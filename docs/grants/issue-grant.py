#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A reference grant issuer for AMS backends (docs/grants.md): signs one kunci grant.

    issue-grant.py --key backend-key.pem --origin https://ams.example.id \
        --method signature.sign --params '{"token":"...","keyId":"...","digest":"..."}' \
        [--holder "Siti Rahayu"] [--lifetime 120]

prints the grant (a JWS in compact form) for the page to send as the request's "grant".
Needs the `cryptography` package (Debian: python3-cryptography).
"""
import argparse
import base64
import hashlib
import json
import secrets
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

# Never part of a grant's params: the agent leaves them out of its comparison too.
NOT_GRANTED = ("grant", "pin", "allowFinalTry")


def b64url(data: bytes) -> str:
    """RFC 4648 base64url without padding, as JWS wants it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact_json(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fingerprint(private_key) -> str:
    """What the agent shows for the pinned public key: SHA-256 of its DER SubjectPublicKeyInfo."""
    spki = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def issue_grant(private_key, origin, method, params, holder=None, lifetime=120):
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = "EdDSA"
    elif isinstance(private_key, ec.EllipticCurvePrivateKey) and \
            private_key.curve.name == "secp256r1":
        alg = "ES256"
    else:
        raise ValueError("a grant key is ECDSA P-256 or Ed25519")
    if not 0 < lifetime <= 600:
        raise ValueError("a grant is valid for 1 to 600 seconds")
    now = int(time.time())
    claims = {
        "aud": "kunci",
        "origin": origin,
        "method": method,
        "params": {name: value for name, value in params.items() if name not in NOT_GRANTED},
        "nonce": b64url(secrets.token_bytes(16)),
        "iat": now,
        "exp": now + lifetime,
    }
    if holder is not None:
        claims["holder"] = holder
    header = {"alg": alg, "kid": fingerprint(private_key)}
    signing_input = (b64url(compact_json(header)) + "." + b64url(compact_json(claims))).encode(
        "ascii")
    if alg == "EdDSA":
        signature = private_key.sign(signing_input)
    else:
        # cryptography gives a DER ECDSA-Sig-Value; JWS wants r || s, 32 bytes each.
        r, s = decode_dss_signature(private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return signing_input.decode("ascii") + "." + b64url(signature)


def main():
    parser = argparse.ArgumentParser(description="Signs one kunci grant.")
    parser.add_argument("--key", required=True, help="the backend's private key, PEM")
    parser.add_argument("--origin", required=True, help="the page's origin")
    parser.add_argument("--method", required=True, help="the method the page will call")
    parser.add_argument("--params", required=True, help="the call's params, JSON")
    parser.add_argument("--holder", help="a text the agent shows in its prompt")
    parser.add_argument("--lifetime", type=int, default=120, help="seconds, 600 at most")
    args = parser.parse_args()
    with open(args.key, "rb") as key_file:
        private_key = serialization.load_pem_private_key(key_file.read(), password=None)
    print(issue_grant(private_key, args.origin, args.method, json.loads(args.params),
                      args.holder, args.lifetime))


if __name__ == "__main__":
    sys.exit(main())
