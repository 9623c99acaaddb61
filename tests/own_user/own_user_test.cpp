// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/platform/peer_user.hpp"
#include "ipc/server.hpp"
#include "tests/own_user/other_user.hpp"
#include "tests/support/ws_client.hpp"

namespace kunci::own_user_test {
namespace {

namespace ip = boost::asio::ip;
using agent::checkPeerUser;
using agent::peerIsOwnUser;

/** A connected pair on loopback: the accepted socket is the agent's end. */
struct Connection {
    explicit Connection(const ip::tcp::endpoint& listen, const ip::tcp::endpoint& connectTo,
                        const ip::tcp& clientProtocol)
        : acceptor(io, listen), client(io), accepted(io) {
        client.open(clientProtocol);
        ip::tcp::endpoint target = connectTo;
        target.port(acceptor.local_endpoint().port());
        client.connect(target);
        acceptor.accept(accepted);
    }

    boost::asio::io_context io;
    ip::tcp::acceptor acceptor;
    ip::tcp::socket client;
    ip::tcp::socket accepted;
};

TEST(PeerUserTest, checkPeerUser_peerWithoutSocket_refusedWithReason) {
    const ip::tcp::endpoint agentEnd(ip::make_address("127.0.0.1"), 1);
    const ip::tcp::endpoint peer(ip::make_address("127.0.0.1"), 2);
    const auto check = checkPeerUser(agentEnd, peer);
    EXPECT_FALSE(check.ownUser);
    EXPECT_NE(check.reason.find("127.0.0.1:2"), std::string::npos) << check.reason;
    EXPECT_FALSE(peerIsOwnUser(agentEnd, peer));
}

TEST(PeerUserTest, peerIsOwnUser_ipv4LoopbackConnectionFromThisProcess_isTrue) {
    Connection connection({ip::make_address("127.0.0.1"), 0}, {ip::make_address("127.0.0.1"), 0},
                          ip::tcp::v4());
    const auto check =
        checkPeerUser(connection.accepted.local_endpoint(), connection.accepted.remote_endpoint());
    EXPECT_TRUE(check.ownUser) << check.reason;
    EXPECT_TRUE(check.reason.empty());
}

TEST(PeerUserTest, peerIsOwnUser_ipv6LoopbackConnectionFromThisProcess_isTrue) {
    std::optional<Connection> connection;
    try {
        connection.emplace(ip::tcp::endpoint(ip::make_address("::1"), 0),
                           ip::tcp::endpoint(ip::make_address("::1"), 0), ip::tcp::v6());
    } catch (const boost::system::system_error& error) {
        GTEST_SKIP() << "no IPv6 loopback here: " << error.what();
    }
    const auto check = checkPeerUser(connection->accepted.local_endpoint(),
                                     connection->accepted.remote_endpoint());
    EXPECT_TRUE(check.ownUser) << check.reason;
}

TEST(PeerUserTest, peerIsOwnUser_ipv6ClientMappedToIpv4Listener_isTrue) {
    // The client's end is an AF_INET6 socket, listed in /proc/net/tcp6 with ::ffff:127.0.0.1,
    // while the agent sees 127.0.0.1.
    std::optional<Connection> connection;
    try {
        connection.emplace(ip::tcp::endpoint(ip::make_address("127.0.0.1"), 0),
                           ip::tcp::endpoint(ip::make_address("::ffff:127.0.0.1"), 0),
                           ip::tcp::v6());
    } catch (const boost::system::system_error& error) {
        GTEST_SKIP() << "no IPv6 sockets here: " << error.what();
    }
    ASSERT_TRUE(connection->accepted.remote_endpoint().address().is_v4());
    const auto check = checkPeerUser(connection->accepted.local_endpoint(),
                                     connection->accepted.remote_endpoint());
    EXPECT_TRUE(check.ownUser) << check.reason;
}

/** ipc::Server on port 0 with the own-user check wired as the agent wires it. */
class OwnUserServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dispatcher_.add("echo",
                        [](const ipc::CallContext&, ipc::Json params, ipc::Completion done) {
                            done(ipc::Json{{"params", params}});
                        });
        ipc::ServerConfig config;
        config.endpoint = {ip::address_v4::loopback(), 0};
        config.allowedOrigins = {kOrigin};
        config.log = [this](std::string_view line) { record(line); };
        config.peerAllowed = [this](const ip::tcp::endpoint& local,
                                    const ip::tcp::endpoint& remote) {
            const auto check = checkPeerUser(local, remote);
            if (!check.ownUser) {
                record(check.reason);
            }
            return check.ownUser;
        };
        server_.emplace(io_, std::move(config), dispatcher_);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }

    void TearDown() override {
        if (server_) {
            server_->stop();
        }
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    void record(std::string_view line) {
        const std::lock_guard lock(mutex_);
        log_.emplace_back(line);
    }

    bool logged(std::string_view text) {
        const std::lock_guard lock(mutex_);
        for (const std::string& line : log_) {
            if (line.find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }

    std::uint16_t port() const { return server_->port(); }

    boost::asio::io_context io_;
    ipc::Dispatcher dispatcher_;
    std::optional<ipc::Server> server_;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> log_;
};

TEST_F(OwnUserServerTest, handshake_otherUsersProcess_answers403) {
    if (const auto why = ensureOtherUser()) {
        GTEST_SKIP() << *why;
    }
    const ProbeCopy probe;
    EXPECT_EQ(probe.status(port(), std::string(kOtherUser)), 403);
    EXPECT_TRUE(logged("belongs to uid")) << "the reason should be logged";
    // The same request from this user passes: the refusal was for the user, nothing else.
    EXPECT_EQ(probe.status(port(), std::nullopt), 101);
}

TEST_F(OwnUserServerTest, handshake_ownUsersProbe_answers101) {
    const ProbeCopy probe;
    EXPECT_EQ(probe.status(port(), std::nullopt), 101);
    EXPECT_FALSE(logged("belongs to uid"));
}

TEST_F(OwnUserServerTest, handshake_ownUsersClient_connectsAndCalls) {
    test::WsClient client(port(), kOrigin);
    const auto response = client.call("echo", {{"x", 1}});
    EXPECT_EQ(response["result"]["params"]["x"], 1) << response.dump();
}

}  // namespace
}  // namespace kunci::own_user_test
