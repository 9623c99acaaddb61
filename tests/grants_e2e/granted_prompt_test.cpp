// SPDX-License-Identifier: Apache-2.0
// The native prompt of a granted call (protocol.md section 8): with a scripted Assuan peer as
// the pinentry, the PIN prompt of a granted renewal.begin says the AMS server requested it and
// names the grant's holder; a call from an origin without grant keys is asked as before.
#include "tests/grants_e2e/grants_fixture.hpp"
#include "tests/pinentry/peer.hpp"

namespace kunci::e2e {
namespace {

using kunci::pinentry_test::findLine;
using kunci::pinentry_test::Peer;
using kunci::pinentry_test::readLines;
using kunci::pinentry_test::writePeer;

class GrantedPromptTest : public GrantsTest {
protected:
    void SetUp() override {
        GrantsTest::SetUp();
        writePeer(workFile("pinentry-peer"), workFile("transcript"), Peer());
        auto args = grantedAgentArgs();
        args.insert(args.end(), {"--pinentry", workFile("pinentry-peer").string()});
        ASSERT_NO_FATAL_FAILURE(startAgent(args));
    }

    /** renewal.begin params without a PIN: the pinentry asks for it. */
    Json beginWithoutPin(kunci::test::WsClient& client) {
        Json params = beginParams(client);
        params.erase("pin");
        return params;
    }
};

TEST_F(GrantedPromptTest, grantedBegin_promptSaysRequestedByAmsServerForHolder) {
    auto client = connect();
    ASSERT_TRUE(succeeded(callGranted(*client, "renewal.begin", beginWithoutPin(*client))));
    const auto lines = readLines(workFile("transcript"));
    EXPECT_NE(findLine(lines, "SETDESC", true), -1) << ::testing::PrintToString(lines);
    const auto description = lines[static_cast<std::size_t>(findLine(lines, "SETDESC", true))];
    // Right under who asks, in each language's block.
    EXPECT_NE(description.find("\".%0ADiminta oleh server AMS untuk Siti Nurhaliza.%0A"),
              std::string::npos)
        << description;
    EXPECT_NE(description.find("\".%0ARequested by the AMS server for Siti Nurhaliza.%0A"),
              std::string::npos)
        << description;
}

TEST_F(GrantedPromptTest, originWithoutGrantKeys_promptWithoutGrantLines) {
    auto client = connect(std::string(kOtherOrigin));
    ASSERT_TRUE(succeeded(client->call("renewal.begin", beginWithoutPin(*client))));
    const auto lines = readLines(workFile("transcript"));
    ASSERT_NE(findLine(lines, "SETDESC", true), -1) << ::testing::PrintToString(lines);
    const auto description = lines[static_cast<std::size_t>(findLine(lines, "SETDESC", true))];
    EXPECT_EQ(description.find("AMS"), std::string::npos) << description;
}

}  // namespace
}  // namespace kunci::e2e
