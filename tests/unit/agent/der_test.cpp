// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/der.hpp"

#include <gtest/gtest.h>

namespace kunci::agent {
namespace {

TEST(DerTest, element_lengthOver127_usesShortestLongForm) {
    const Bytes content128(128, 0xab);
    const Bytes encoded = der::element(0x04, content128);
    ASSERT_EQ(encoded.size(), 3u + 128u);
    EXPECT_EQ((Bytes{encoded.begin(), encoded.begin() + 3}), (Bytes{0x04, 0x81, 0x80}));

    const Bytes encoded256 = der::element(0x04, Bytes(256, 0));
    EXPECT_EQ((Bytes{encoded256.begin(), encoded256.begin() + 4}), (Bytes{0x04, 0x82, 0x01, 0x00}));

    const Bytes encoded65536 = der::element(0x04, Bytes(65536, 0));
    EXPECT_EQ((Bytes{encoded65536.begin(), encoded65536.begin() + 5}),
              (Bytes{0x04, 0x83, 0x01, 0x00, 0x00}));
    EXPECT_EQ(encoded65536.size(), 5u + 65536u);
}

TEST(DerTest, element_shortContent_oneLengthByte) {
    EXPECT_EQ(der::element(0x05, Bytes{}), (Bytes{0x05, 0x00}));
    EXPECT_EQ(der::element(0x04, Bytes(127, 0x01)).at(1), 0x7f);
}

TEST(DerTest, unsignedInteger_zeroOrLeadingZeros_minimalEncoding) {
    EXPECT_EQ(der::unsignedInteger(Bytes{}), (Bytes{0x02, 0x01, 0x00}));
    EXPECT_EQ(der::unsignedInteger(Bytes{0x00, 0x00}), (Bytes{0x02, 0x01, 0x00}));
    EXPECT_EQ(der::unsignedInteger(Bytes{0x00, 0x01, 0x00, 0x01}),
              (Bytes{0x02, 0x03, 0x01, 0x00, 0x01}));
    EXPECT_EQ(der::unsignedInteger(Bytes{0x00, 0x7f}), (Bytes{0x02, 0x01, 0x7f}));
}

TEST(DerTest, unsignedInteger_highBitSet_getsOneZeroByte) {
    EXPECT_EQ(der::unsignedInteger(Bytes{0x80}), (Bytes{0x02, 0x02, 0x00, 0x80}));
    EXPECT_EQ(der::unsignedInteger(Bytes{0x00, 0x00, 0xc5, 0x01}),
              (Bytes{0x02, 0x03, 0x00, 0xc5, 0x01}));
}

TEST(DerTest, bitStringAndSequence_wrapTheirParts) {
    EXPECT_EQ(der::bitString(Bytes{}), (Bytes{0x03, 0x01, 0x00}));
    EXPECT_EQ(der::bitString(Bytes{0xff, 0x00}), (Bytes{0x03, 0x03, 0x00, 0xff, 0x00}));
    EXPECT_EQ(der::sequence({Bytes{0x05, 0x00}, Bytes{0x02, 0x01, 0x07}}),
              (Bytes{0x30, 0x05, 0x05, 0x00, 0x02, 0x01, 0x07}));
    EXPECT_EQ(der::sequence({}), (Bytes{0x30, 0x00}));
}

}  // namespace
}  // namespace kunci::agent
