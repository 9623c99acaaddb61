// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/der.hpp"

#include <algorithm>

namespace kunci::agent::der {

Bytes element(unsigned char tag, Part content) {
    Bytes out{tag};
    const std::size_t size = content.size();
    if (size < 0x80) {
        out.push_back(static_cast<unsigned char>(size));
    } else {
        Bytes length;
        for (std::size_t rest = size; rest != 0; rest >>= 8) {
            length.insert(length.begin(), static_cast<unsigned char>(rest & 0xff));
        }
        out.push_back(static_cast<unsigned char>(0x80 | length.size()));
        out.insert(out.end(), length.begin(), length.end());
    }
    out.insert(out.end(), content.begin(), content.end());
    return out;
}

Bytes sequence(std::initializer_list<Part> parts) {
    Bytes content;
    for (const Part part : parts) {
        content.insert(content.end(), part.begin(), part.end());
    }
    return element(0x30, content);
}

Bytes unsignedInteger(Part bigEndian) {
    const auto first = std::find_if(bigEndian.begin(), bigEndian.end(),
                                    [](unsigned char byte) { return byte != 0; });
    Bytes content;
    if (first == bigEndian.end() || (*first & 0x80) != 0) {
        content.push_back(0x00);
    }
    content.insert(content.end(), first, bigEndian.end());
    return element(0x02, content);
}

Bytes bitString(Part bytes) {
    Bytes content{0x00};  // the count of unused bits in the last byte
    content.insert(content.end(), bytes.begin(), bytes.end());
    return element(0x03, content);
}

}  // namespace kunci::agent::der
