// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/openssl.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>

#include "agent/crypto/der.hpp"

namespace kunci::agent {
namespace {

using OsslParamBldPtr = OpenSslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using OsslParamPtr = OpenSslPtr<OSSL_PARAM, OSSL_PARAM_free>;

std::string drainErrorQueue() {
    std::string text;
    while (const unsigned long code = ERR_get_error()) {
        std::array<char, 256> buffer{};
        ERR_error_string_n(code, buffer.data(), buffer.size());
        text += text.empty() ? "" : "; ";
        text += buffer.data();
    }
    return text;
}

std::string withQueue(const std::string& context) {
    const std::string queue = drainErrorQueue();
    return queue.empty() ? context : context + ": " + queue;
}

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64Value(char c) {
    const auto at = kBase64Alphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Builds an EC public key from a point encoding, or returns null (error queue left as is).
EvpPkeyPtr ecKeyFromPoint(const char* groupName, std::span<const unsigned char> point) {
    OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (!builder ||
        !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, groupName, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                          point.size())) {
        return nullptr;
    }
    OsslParamPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
        return nullptr;
    }
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return nullptr;
    }
    EvpPkeyPtr key(raw);
    // fromdata decodes the point; the check also proves it lies on the curve and is not the
    // point at infinity. The quick check leaves out only the multiplication by the group order,
    // which proves nothing more on the prime-order curves a token is asked for (P-256, P-384)
    // and cost more than the rest of the request's encoding.
    EvpPkeyCtxPtr checkCtx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!checkCtx || EVP_PKEY_public_check_quick(checkCtx.get()) != 1) {
        return nullptr;
    }
    return key;
}

// Whether OpenSSL knows the curve: a list made once, where building the group to see would cost
// a tenth of a request's encoding every time.
bool isBuiltinCurve(int nid) {
    static const std::vector<int> known = [] {
        std::vector<EC_builtin_curve> curves(EC_get_builtin_curves(nullptr, 0));
        std::vector<int> nids;
        for (std::size_t i = 0; i < EC_get_builtin_curves(curves.data(), curves.size()); ++i) {
            nids.push_back(curves[i].nid);
        }
        return nids;
    }();
    return std::find(known.begin(), known.end(), nid) != known.end();
}

/** An EC public key with the curve's OID (DER) and the point encoding it was built from. */
struct DecodedEcKey {
    EvpPkeyPtr key;
    Bytes curveOidDer;
    Bytes point;
};

DecodedEcKey decodeEcPublicKey(const Bytes& ecParamsDer, const Bytes& ecPoint) {
    const unsigned char* cursor = ecParamsDer.data();
    Asn1ObjectPtr oid(d2i_ASN1_OBJECT(nullptr, &cursor, static_cast<long>(ecParamsDer.size())));
    if (!oid || cursor != ecParamsDer.data() + ecParamsDer.size()) {
        throw OpenSslError("EC parameters are not the DER OID of a named curve");
    }
    const int nid = OBJ_obj2nid(oid.get());
    const char* groupName = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
    if (!groupName || !isBuiltinCurve(nid)) {
        throw OpenSslError("EC parameters name a curve OpenSSL does not know");
    }
    // Written again from the object, so that what goes into a request is the canonical DER.
    Bytes curveOidDer =
        derEncode([&](unsigned char** out) { return i2d_ASN1_OBJECT(oid.get(), out); },
                  "cannot encode the curve's OID");
    // A DER OCTET STRING wrapping the point is what PKCS#11 specifies; some tokens give the
    // bare point. Each encoding is tried; only one of them can decode as a point on the curve.
    ERR_set_mark();
    const unsigned char* octetCursor = ecPoint.data();
    Asn1OctetStringPtr octets(
        d2i_ASN1_OCTET_STRING(nullptr, &octetCursor, static_cast<long>(ecPoint.size())));
    if (octets && octetCursor == ecPoint.data() + ecPoint.size()) {
        const std::span<const unsigned char> inner(ASN1_STRING_get0_data(octets.get()),
                                                   ASN1_STRING_length(octets.get()));
        if (EvpPkeyPtr key = ecKeyFromPoint(groupName, inner)) {
            ERR_pop_to_mark();
            return {std::move(key), std::move(curveOidDer), Bytes(inner.begin(), inner.end())};
        }
    }
    ERR_pop_to_mark();
    if (EvpPkeyPtr key = ecKeyFromPoint(groupName, ecPoint)) {
        return {std::move(key), std::move(curveOidDer), ecPoint};
    }
    throw OpenSslError("EC point is not a valid point on " + std::string(groupName));
}

}  // namespace

OpenSslError::OpenSslError(const std::string& context) : std::runtime_error(withQueue(context)) {}

Bytes sha256(std::span<const unsigned char> data) {
    Bytes digest(32);
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
        size != digest.size()) {
        throw OpenSslError("SHA-256 failed");
    }
    return digest;
}

Bytes sha256(std::string_view data) {
    return sha256(std::span(reinterpret_cast<const unsigned char*>(data.data()), data.size()));
}

std::string sha256Hex(std::string_view data) {
    return toHex(sha256(data));
}

std::string bioText(BIO* bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

int hexDigitValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string toHex(std::span<const unsigned char> data) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (const unsigned char byte : data) {
        out += kDigits[byte >> 4];
        out += kDigits[byte & 0x0f];
    }
    return out;
}

std::optional<Bytes> fromHex(std::string_view hex) {
    if (hex.size() % 2 != 0) {
        return std::nullopt;
    }
    Bytes out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int high = hexDigitValue(hex[i]);
        const int low = hexDigitValue(hex[i + 1]);
        if (high < 0 || low < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<unsigned char>(high << 4 | low));
    }
    return out;
}

std::optional<Bytes> fromBase64(std::string_view text) {
    Bytes out;
    out.reserve(text.size() / 4 * 3);
    unsigned int accumulator = 0;
    int bits = 0;
    std::size_t symbols = 0;
    std::size_t padding = 0;
    for (const char c : text) {
        if (isSpace(c)) {
            continue;
        }
        if (c == '=') {
            ++padding;
            continue;
        }
        const int value = base64Value(c);
        if (value < 0 || padding > 0) {
            return std::nullopt;
        }
        ++symbols;
        accumulator = (accumulator << 6) | static_cast<unsigned int>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<unsigned char>(accumulator >> bits));
            accumulator &= (1U << bits) - 1;
        }
    }
    const std::size_t remainder = symbols % 4;
    if (remainder == 1) {
        return std::nullopt;
    }
    if (padding > 0 && (remainder == 0 || padding != 4 - remainder)) {
        return std::nullopt;
    }
    if (accumulator != 0) {
        return std::nullopt;  // non-canonical: the unused low bits must be zero
    }
    return out;
}

std::string toBase64(std::span<const unsigned char> data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const unsigned int chunk = data[i] << 16 | data[i + 1] << 8 | data[i + 2];
        out += kBase64Alphabet[chunk >> 18 & 0x3f];
        out += kBase64Alphabet[chunk >> 12 & 0x3f];
        out += kBase64Alphabet[chunk >> 6 & 0x3f];
        out += kBase64Alphabet[chunk & 0x3f];
    }
    if (data.size() - i == 1) {
        const unsigned int chunk = data[i] << 16;
        out += kBase64Alphabet[chunk >> 18 & 0x3f];
        out += kBase64Alphabet[chunk >> 12 & 0x3f];
        out += "==";
    } else if (data.size() - i == 2) {
        const unsigned int chunk = data[i] << 16 | data[i + 1] << 8;
        out += kBase64Alphabet[chunk >> 18 & 0x3f];
        out += kBase64Alphabet[chunk >> 12 & 0x3f];
        out += kBase64Alphabet[chunk >> 6 & 0x3f];
        out += '=';
    }
    return out;
}

Bytes ecdsaRawToDer(std::span<const unsigned char> raw) {
    if (raw.empty() || raw.size() % 2 != 0) {
        throw std::invalid_argument("raw ECDSA signature must be r||s of equal, non-zero length");
    }
    const std::size_t half = raw.size() / 2;
    BignumPtr r(BN_bin2bn(raw.data(), static_cast<int>(half), nullptr));
    BignumPtr s(BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr));
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        throw OpenSslError("cannot build ECDSA-Sig-Value");
    }
    // ECDSA_SIG_set0 took ownership of both numbers.
    static_cast<void>(r.release());
    static_cast<void>(s.release());
    return derEncode([&](unsigned char** out) { return i2d_ECDSA_SIG(sig.get(), out); },
                     "cannot encode ECDSA-Sig-Value");
}

Bytes ecdsaDerToRaw(std::span<const unsigned char> der, std::size_t fieldBytes) {
    const unsigned char* cursor = der.data();
    EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
    if (!sig || cursor != der.data() + der.size()) {
        ERR_clear_error();
        throw std::invalid_argument("not exactly one DER ECDSA-Sig-Value");
    }
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    if (BN_is_negative(r) || BN_is_negative(s) ||
        static_cast<std::size_t>(BN_num_bytes(r)) > fieldBytes ||
        static_cast<std::size_t>(BN_num_bytes(s)) > fieldBytes) {
        throw std::invalid_argument("ECDSA signature values do not fit the field size");
    }
    Bytes raw(fieldBytes * 2);
    const int width = static_cast<int>(fieldBytes);
    if (BN_bn2binpad(r, raw.data(), width) != width ||
        BN_bn2binpad(s, raw.data() + fieldBytes, width) != width) {
        throw OpenSslError("cannot encode raw ECDSA signature");
    }
    return raw;
}

EvpPkeyPtr rsaPublicKey(const Bytes& modulus, const Bytes& publicExponent) {
    if (modulus.empty() || publicExponent.empty()) {
        throw OpenSslError("RSA public key needs a modulus and an exponent");
    }
    BignumPtr n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
    BignumPtr e(BN_bin2bn(publicExponent.data(), static_cast<int>(publicExponent.size()), nullptr));
    OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
    if (!n || !e || !builder || BN_is_zero(n.get()) || BN_is_zero(e.get()) ||
        !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
        !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
        throw OpenSslError("cannot build RSA public key parameters");
    }
    OsslParamPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
        throw OpenSslError("cannot prepare RSA public key");
    }
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        throw OpenSslError("cannot build RSA public key");
    }
    return EvpPkeyPtr(raw);
}

EvpPkeyPtr ecPublicKey(const Bytes& ecParamsDer, const Bytes& ecPoint) {
    return decodeEcPublicKey(ecParamsDer, ecPoint).key;
}

Bytes subjectPublicKeyInfoDer(EVP_PKEY* key) {
    return derEncode([&](unsigned char** out) { return i2d_PUBKEY(key, out); },
                     "cannot encode SubjectPublicKeyInfo");
}

PublicKey rsaPublicKeyWithSpki(const Bytes& modulus, const Bytes& publicExponent) {
    EvpPkeyPtr key = rsaPublicKey(modulus, publicExponent);
    // AlgorithmIdentifier { rsaEncryption, NULL }
    static const Bytes algorithm{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    const Bytes rsaKey =
        der::sequence({der::unsignedInteger(modulus), der::unsignedInteger(publicExponent)});
    return {std::move(key), der::sequence({algorithm, der::bitString(rsaKey)})};
}

PublicKey ecPublicKeyWithSpki(const Bytes& ecParamsDer, const Bytes& ecPoint) {
    DecodedEcKey decoded = decodeEcPublicKey(ecParamsDer, ecPoint);
    if (decoded.point.front() != 0x04) {
        // Compressed (or hybrid), which tokens rarely give: OpenSSL writes it uncompressed.
        Bytes spki = subjectPublicKeyInfoDer(decoded.key.get());
        return {std::move(decoded.key), std::move(spki)};
    }
    // OID id-ecPublicKey
    static const Bytes ecPublicKeyOid{0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
    const Bytes algorithm = der::sequence({ecPublicKeyOid, decoded.curveOidDer});
    return {std::move(decoded.key), der::sequence({algorithm, der::bitString(decoded.point)})};
}

EvpPkeyPtr publicKeyFromSpki(std::span<const unsigned char> spkiDer) {
    const unsigned char* cursor = spkiDer.data();
    EvpPkeyPtr key(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(spkiDer.size())));
    if (!key || cursor != spkiDer.data() + spkiDer.size()) {
        throw OpenSslError("not exactly one DER SubjectPublicKeyInfo");
    }
    return key;
}

bool samePublicKey(std::span<const unsigned char> spkiA, std::span<const unsigned char> spkiB) {
    try {
        const EvpPkeyPtr a = publicKeyFromSpki(spkiA);
        const EvpPkeyPtr b = publicKeyFromSpki(spkiB);
        return EVP_PKEY_eq(a.get(), b.get()) == 1;
    } catch (const OpenSslError&) {
        return false;
    }
}

}  // namespace kunci::agent
