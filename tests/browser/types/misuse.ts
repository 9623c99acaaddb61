// Mistakes kunci.d.ts must catch (types.test.mjs expects tsc to report each line marked).
import { connect, signingCode } from "../../../ipc/client/kunci.js";

const kunci = connect();
// A key size the protocol does not have.
void kunci.beginRenewal({ token: "t", key: { type: "rsa", bits: 1024 }, subject: {} }); // error
// The token id is a string.
void kunci.listCertificates({ token: 42 }); // error
// listTokens resolves with the array, not the result object.
void kunci.listTokens().then((result) => result.tokens); // error
// A signing code is of a digest or of data, not of both.
void signingCode({ digest: "AAAAAAAAAAA=", data: "AAAA" }); // error
