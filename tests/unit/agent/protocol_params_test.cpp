// SPDX-License-Identifier: Apache-2.0
// The parameter layer: each method's params into the domain's requests, -32602 with data.field
// for the field at fault, the PIN wiped from the params either way.
#include "agent/protocol/protocol_params.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace kunci::agent {
namespace {

using ipc::Json;

/** The field the call's -32602 names; "" when it throws nothing or something else. */
std::string refusedField(const std::function<void()>& call) {
    try {
        call();
    } catch (const ipc::RpcError& error) {
        if (error.code == ipc::error_code::invalidParams &&
            error.data.value("reason", "") == "invalid-params") {
            return error.data.value("field", "");
        }
    }
    return "";
}

Json beginParams(const Json& extra = Json::object()) {
    Json params = {{"token", "t1"},
                   {"key", {{"type", "ec"}, {"curve", "P-384"}}},
                   {"subject", {{"O", "Pemerintah Kota Pekalongan"}, {"CN", "Budi Santoso"}}},
                   {"pin", "246810"}};
    params.update(extra);
    return params;
}

TEST(ProtocolParamsTest, parseRenewalBegin_valid_typedRequestAndPinTaken) {
    Json params = beginParams({{"replaces", "A1B2"}, {"allowFinalTry", true}});
    const BeginRequest request = parseRenewalBegin(params);

    EXPECT_EQ(request.token, "t1");
    EXPECT_EQ(request.keySpec.type, pkcs11::KeyType::Ec);
    EXPECT_EQ(request.keySpec.curve, pkcs11::Curve::P384);
    const SubjectFields expected = {{"O", "Pemerintah Kota Pekalongan"}, {"CN", "Budi Santoso"}};
    EXPECT_EQ(request.subject, expected);
    EXPECT_EQ(request.replaces, "a1b2");
    ASSERT_TRUE(request.credentials.pin.has_value());
    EXPECT_EQ(request.credentials.pin->view(), "246810");
    EXPECT_TRUE(request.credentials.allowFinalTry);
    EXPECT_EQ(params["pin"], "");
}

TEST(ProtocolParamsTest, parseRenewalBegin_fieldRefusedBeforePin_pinStillWiped) {
    Json params = beginParams();
    params.erase("token");

    EXPECT_EQ(refusedField([&] { parseRenewalBegin(params); }), "token");
    EXPECT_EQ(params["pin"], "");
}

TEST(ProtocolParamsTest, parseRenewalBegin_eachBadField_namesIt) {
    const auto refused = [](const Json& extra) {
        return refusedField([&] {
            Json params = beginParams(extra);
            parseRenewalBegin(params);
        });
    };
    EXPECT_EQ(refused({{"key", {{"type", "rsa"}, {"bits", 1024}}}}), "key.bits");
    EXPECT_EQ(refused({{"key", {{"type", "ec"}, {"curve", "P-521"}}}}), "key.curve");
    EXPECT_EQ(refused({{"key", {{"type", "dsa"}}}}), "key.type");
    EXPECT_EQ(refused({{"key", "rsa"}}), "key");
    EXPECT_EQ(refused({{"subject", {{"CN", 7}}}}), "subject.CN");
    EXPECT_EQ(refused({{"replaces", "not hex"}}), "replaces");
    EXPECT_EQ(refused({{"pin", 246810}}), "pin");
    EXPECT_EQ(refused({{"allowFinalTry", "yes"}}), "allowFinalTry");
}

TEST(ProtocolParamsTest, parseRenewalComplete_chainElementNotString_namesIt) {
    Json params = {{"renewal", "r1"}, {"certificate", "PEM"}, {"chain", Json::array({"a", 2})}};
    EXPECT_EQ(refusedField([&] { parseRenewalComplete(params); }), "chain[1]");
}

TEST(ProtocolParamsTest, parseRenewalCancelAndRetire_nameTheirTask) {
    Json cancel = {{"renewal", "r1"}};
    Json retire = {{"renewal", "r1"}};
    EXPECT_EQ(parseRenewalCancel(cancel).credentials.task, PromptTask::CancelRenewal);
    EXPECT_EQ(parseRenewalRetire(retire).credentials.task, PromptTask::RetireOld);
    Json missing = Json::object();
    EXPECT_EQ(refusedField([&] { parseRenewalCancel(missing); }), "renewal");
}

TEST(ProtocolParamsTest, parseCertificatesList_noPin_noCredentials) {
    Json params = {{"token", "t1"}};
    const CertificatesListRequest request = parseCertificatesList(params);
    EXPECT_EQ(request.token, "t1");
    EXPECT_FALSE(request.credentials.pin.has_value());
    EXPECT_FALSE(request.credentials.allowFinalTry);
}

TEST(ProtocolParamsTest, parseDemoIssue_emptyCsr_namesCsr) {
    EXPECT_EQ(refusedField([] { parseDemoIssue({{"csr", ""}}); }), "csr");
    EXPECT_EQ(parseDemoIssue({{"csr", "PEM"}}), "PEM");
}

}  // namespace
}  // namespace kunci::agent
