// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <bit>
#include <boost/asio/ip/address.hpp>
#include <string>

#include "agent/platform/peer_user.hpp"

namespace kunci::agent {
namespace {

namespace ip = boost::asio::ip;

// Lines as a little-endian Linux (x86-64) prints them; the parser reads the host's order.
constexpr bool kLittleEndian = std::endian::native == std::endian::little;

const std::string kTcpHeader =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n";
const std::string kTcp6Header =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

// The agent listens on 127.0.0.1:27853 (0x6CCD); a peer connected from port 54321 (0xD431).
const std::string kListenLine =
    "   0: 0100007F:6CCD 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "202535 1 0000000095641833 100 0 0 10 0\n";
const std::string kAgentSideLine =
    "   1: 0100007F:6CCD 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 "
    "202600 1 0000000095641834 20 4 30 10 -1\n";
const std::string kPeerSideLine =
    "   2: 0100007F:D431 0100007F:6CCD 01 00000000:00000000 00:00000000 00000000  1001        0 "
    "202601 1 0000000095641835 20 4 30 10 -1\n";
const std::string kTimeWaitLine =
    "   3: 0100007F:D431 0100007F:6CCD 06 00000000:00000000 03:00001770 00000000     0        0 "
    "0 3 0000000000000000\n";

ip::tcp::endpoint endpoint(const char* address, unsigned short port) {
    return {ip::make_address(address), port};
}

const ip::tcp::endpoint kAgent = endpoint("127.0.0.1", 27853);
const ip::tcp::endpoint kPeer = endpoint("127.0.0.1", 54321);

class ProcNetTcpTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!kLittleEndian) {
            GTEST_SKIP() << "the canned lines are a little-endian host's";
        }
    }
};

TEST_F(ProcNetTcpTest, parseProcNetTcp_headerAndMalformedLines_skipped) {
    const std::string text = kTcpHeader + "garbage\n" +
                             "   4: 0100007G:6CCD 0100007F:D431 01 0:0 0:0 0 1000 0 1\n" +
                             "   5: 0100007F:6CCD 0100007F 01 0:0 0:0 0 1000 0 1\n" +
                             "   6: 0100007F:6CCD 0100007F:D431 01 0:0 0:0 0 uid 0 1\n" +
                             "   7: 0100007F:6CCD 0100007F:D431 01\n" + "\n";
    EXPECT_TRUE(parseProcNetTcp(text).empty());
}

TEST_F(ProcNetTcpTest, parseProcNetTcp_emptyText_isEmpty) {
    EXPECT_TRUE(parseProcNetTcp("").empty());
    EXPECT_TRUE(parseProcNetTcp(kTcpHeader).empty());
}

TEST_F(ProcNetTcpTest, parseProcNetTcp_ipv4Lines_giveEndpointsStateAndUid) {
    const auto entries = parseProcNetTcp(kTcpHeader + kListenLine + kPeerSideLine);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].local, kAgent);
    EXPECT_EQ(entries[0].remote, endpoint("0.0.0.0", 0));
    EXPECT_EQ(entries[0].state, 0x0Au);
    EXPECT_EQ(entries[0].uid, 0u);
    EXPECT_EQ(entries[1].local, kPeer);
    EXPECT_EQ(entries[1].remote, kAgent);
    EXPECT_EQ(entries[1].state, 1u);
    EXPECT_EQ(entries[1].uid, 1001u);
}

TEST_F(ProcNetTcpTest, parseProcNetTcp_lastLineWithoutNewline_parsed) {
    std::string text = kTcpHeader + kPeerSideLine;
    text.pop_back();
    ASSERT_EQ(parseProcNetTcp(text).size(), 1u);
}

TEST_F(ProcNetTcpTest, parseProcNetTcp_ipv6Loopback_parsed) {
    const std::string line =
        "   0: 00000000000000000000000001000000:D431 00000000000000000000000001000000:6CCD 01 "
        "00000000:00000000 00:00000000 00000000  1002        0 303 1 0000000000000000 20 4 1 10 "
        "-1\n";
    const auto entries = parseProcNetTcp(kTcp6Header + line);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].local, endpoint("::1", 54321));
    EXPECT_EQ(entries[0].remote, endpoint("::1", 27853));
    EXPECT_EQ(entries[0].uid, 1002u);
}

TEST_F(ProcNetTcpTest, parseProcNetTcp_ipv4MappedInTcp6_parsedAsMapped) {
    const std::string line =
        "   0: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:6CCD 01 "
        "00000000:00000000 00:00000000 00000000  1003        0 304 1 0000000000000000 20 4 1 10 "
        "-1\n";
    const auto entries = parseProcNetTcp(kTcp6Header + line);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].local, endpoint("::ffff:127.0.0.1", 54321));
    EXPECT_EQ(entries[0].uid, 1003u);
}

TEST_F(ProcNetTcpTest, findPeerUid_noLineForThePeer_isNullopt) {
    const auto entries = parseProcNetTcp(kTcpHeader + kListenLine + kAgentSideLine);
    EXPECT_FALSE(findPeerUid(entries, kAgent, kPeer));
    EXPECT_FALSE(findPeerUid({}, kAgent, kPeer));
}

TEST_F(ProcNetTcpTest, findPeerUid_timeWaitLineWithUid0_isIgnored) {
    const auto entries = parseProcNetTcp(kTcpHeader + kTimeWaitLine);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_FALSE(findPeerUid(entries, kAgent, kPeer));
}

TEST_F(ProcNetTcpTest, findPeerUid_twoLinesWithDifferentUids_isNullopt) {
    const std::string otherOwner =
        "   9: 0100007F:D431 0100007F:6CCD 01 00000000:00000000 00:00000000 00000000  1005 0 "
        "9 1 0000000000000000\n";
    const auto entries = parseProcNetTcp(kTcpHeader + kPeerSideLine + otherOwner);
    EXPECT_FALSE(findPeerUid(entries, kAgent, kPeer));
}

TEST_F(ProcNetTcpTest, findPeerUid_agentAndPeerLines_takesThePeersLine) {
    // The agent's own end (uid 0) has the same two endpoints the other way round.
    const auto entries =
        parseProcNetTcp(kTcpHeader + kListenLine + kAgentSideLine + kPeerSideLine + kTimeWaitLine);
    EXPECT_EQ(findPeerUid(entries, kAgent, kPeer), 1001u);
}

TEST_F(ProcNetTcpTest, findPeerUid_otherPeerPort_isNullopt) {
    const auto entries = parseProcNetTcp(kTcpHeader + kPeerSideLine);
    EXPECT_FALSE(findPeerUid(entries, kAgent, endpoint("127.0.0.1", 54322)));
    EXPECT_FALSE(findPeerUid(entries, endpoint("127.0.0.1", 27854), kPeer));
}

TEST_F(ProcNetTcpTest, findPeerUid_mappedPeerLineInTcp6_matchesIpv4Endpoints) {
    const std::string line =
        "   0: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:6CCD 01 "
        "00000000:00000000 00:00000000 00000000  1004        0 305 1 0000000000000000\n";
    EXPECT_EQ(findPeerUid(parseProcNetTcp(kTcp6Header + line), kAgent, kPeer), 1004u);
}

TEST_F(ProcNetTcpTest, findPeerUid_mappedEndpointsFromTheAgent_matchIpv4Line) {
    const auto entries = parseProcNetTcp(kTcpHeader + kPeerSideLine);
    EXPECT_EQ(findPeerUid(entries, endpoint("::ffff:127.0.0.1", 27853),
                          endpoint("::ffff:127.0.0.1", 54321)),
              1001u);
}

TEST_F(ProcNetTcpTest, findPeerUid_ipv6PeerDoesNotMatchIpv4Line) {
    const auto entries = parseProcNetTcp(kTcpHeader + kPeerSideLine);
    EXPECT_FALSE(findPeerUid(entries, endpoint("::1", 27853), endpoint("::1", 54321)));
}

}  // namespace
}  // namespace kunci::agent
