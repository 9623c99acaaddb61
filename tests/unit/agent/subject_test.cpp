// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/subject.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kunci::agent {
namespace {

struct BadSubject {
    const char* description;
    SubjectFields fields;
    const char* field;
};

class CanonicalSubjectRejectTest : public ::testing::TestWithParam<BadSubject> {};

TEST_P(CanonicalSubjectRejectTest, canonicalSubject_invalid_throwsSubjectErrorNamingField) {
    const BadSubject& bad = GetParam();
    try {
        canonicalSubject(bad.fields);
        FAIL() << "accepted: " << bad.description;
    } catch (const SubjectError& error) {
        EXPECT_EQ(error.field, bad.field) << bad.description;
        EXPECT_FALSE(std::string(error.what()).empty());
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CanonicalSubjectRejectTest,
    ::testing::Values(
        BadSubject{"empty", {}, "subject.CN"}, BadSubject{"no CN", {{"O", "Pemkot"}}, "subject.CN"},
        BadSubject{"unknown name", {{"CN", "a"}, {"commonName", "a"}}, "subject.commonName"},
        BadSubject{"lower-case cn", {{"cn", "a"}}, "subject.cn"},
        BadSubject{"empty value", {{"CN", ""}}, "subject.CN"},
        BadSubject{"257 bytes", {{"CN", std::string(257, 'a')}}, "subject.CN"},
        BadSubject{"duplicate", {{"CN", "a"}, {"CN", "b"}}, "subject.CN"},
        BadSubject{"invalid UTF-8", {{"CN", "a"}, {"O", "\xC3\x28"}}, "subject.O"},
        BadSubject{"overlong UTF-8", {{"CN", "\xC0\xAF"}}, "subject.CN"},
        BadSubject{"surrogate", {{"CN", "\xED\xA0\x80"}}, "subject.CN"},
        BadSubject{"truncated UTF-8", {{"CN", "\xC5"}}, "subject.CN"},
        BadSubject{"NUL", {{"CN", std::string("a\0b", 3)}}, "subject.CN"},
        BadSubject{"newline", {{"CN", "a\nb"}}, "subject.CN"},
        BadSubject{"C three letters", {{"CN", "a"}, {"C", "IDN"}}, "subject.C"},
        BadSubject{"C digits", {{"CN", "a"}, {"C", "12"}}, "subject.C"},
        BadSubject{"C one letter", {{"CN", "a"}, {"C", "I"}}, "subject.C"},
        BadSubject{
            "non-ASCII email", {{"CN", "a"}, {"emailAddress", "ł@x.id"}}, "subject.emailAddress"}));

TEST(CanonicalSubjectTest, canonicalSubject_256ByteUtf8Value_accepted) {
    std::string value;
    while (value.size() < 256) {
        value += "\xC5\x81";  // Ł
    }
    EXPECT_EQ(canonicalSubject({{"CN", value}}).front().second, value);
}

TEST(CanonicalSubjectTest, canonicalSubject_everyName_returnsCanonicalOrder) {
    const SubjectFields input = {
        {"emailAddress", "a@b.id"}, {"UID", "u1"},        {"CN", "Łukasz Ğ"},
        {"serialNumber", "3375"},   {"givenName", "Ł"},   {"SN", "Ğ"},
        {"title", "Staff"},         {"OU", "Diskominfo"}, {"O", "Pemkot Pekalongan"},
        {"postalCode", "51111"},    {"street", "Jl. 1"},  {"L", "Pekalongan"},
        {"ST", "Jawa Tengah"},      {"C", "ID"},          {"DC", "id"}};
    const SubjectFields expected = {{"DC", "id"},
                                    {"C", "ID"},
                                    {"ST", "Jawa Tengah"},
                                    {"L", "Pekalongan"},
                                    {"street", "Jl. 1"},
                                    {"postalCode", "51111"},
                                    {"O", "Pemkot Pekalongan"},
                                    {"OU", "Diskominfo"},
                                    {"title", "Staff"},
                                    {"SN", "Ğ"},
                                    {"givenName", "Ł"},
                                    {"serialNumber", "3375"},
                                    {"CN", "Łukasz Ğ"},
                                    {"UID", "u1"},
                                    {"emailAddress", "a@b.id"}};
    EXPECT_EQ(canonicalSubject(input), expected);
}

TEST(CanonicalSubjectTest, canonicalSubject_cnOnly_isUnchanged) {
    const SubjectFields input = {{"CN", "4-byte \xF0\x9F\x94\x91 key"}};
    EXPECT_EQ(canonicalSubject(input), input);
}

}  // namespace
}  // namespace kunci::agent
