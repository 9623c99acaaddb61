// SPDX-License-Identifier: Apache-2.0
#include "pkcs11/types.hpp"

namespace kunci::pkcs11 {

Bytes ecParams(Curve curve) {
    switch (curve) {
        case Curve::P256:  // OID 1.2.840.10045.3.1.7 (prime256v1)
            return {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
        case Curve::P384:  // OID 1.3.132.0.34 (secp384r1)
            return {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
    }
    return {};
}

}  // namespace kunci::pkcs11
