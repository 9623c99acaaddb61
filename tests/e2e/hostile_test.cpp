// SPDX-License-Identifier: Apache-2.0
// Hostile pages against the real agent (issue 4): handshake tricks that must all be refused,
// the connection limit, a request flood that must not starve another page, and an oversized
// message. After each attack the agent must still serve a well-behaved page.
#include <algorithm>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/e2e/agent_harness.hpp"

namespace kunci::e2e {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using kunci::test::HttpResponse;
using kunci::test::rawHttp;
using kunci::test::upgradeRequest;
using ErrorCode = beast::error_code;

constexpr std::size_t kMaxConnections = 16;
constexpr std::size_t kMaxMessageBytes = 1024 * 1024;

std::string lowerCase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string withPort(std::string_view host, std::uint16_t port) {
    return std::string(host) + ":" + std::to_string(port);
}

/** An upgrade request that is right in every respect except those the caller changes. */
struct RequestSpec {
    std::string method = "GET";
    std::string path = "/v1";
    std::string version = "HTTP/1.1";
    std::optional<std::string> host;  // nullopt: "127.0.0.1:<port>"
    bool sendHost = true;
    std::optional<std::string> origin = std::string(kOrigin);
    bool sendUpgrade = true;
    bool sendKey = true;
    std::string wsVersion = "13";
    std::vector<std::pair<std::string, std::string>> extra;
};

std::string buildRequest(const RequestSpec& spec, std::uint16_t port) {
    std::string request = spec.method + " " + spec.path + " " + spec.version + "\r\n";
    if (spec.sendHost) {
        request += "Host: " + spec.host.value_or(withPort("127.0.0.1", port)) + "\r\n";
    }
    if (spec.sendUpgrade) {
        request += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    }
    if (spec.sendKey) {
        request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    }
    request += "Sec-WebSocket-Version: " + spec.wsVersion + "\r\n";
    if (spec.origin) {
        request += "Origin: " + *spec.origin + "\r\n";
    }
    for (const auto& [name, value] : spec.extra) {
        request += name + ": " + value + "\r\n";
    }
    return request + "\r\n";
}

/** One hostile handshake: a name for the test, how to build it, and the status it must get. */
struct Variant {
    std::string name;
    std::function<RequestSpec(std::uint16_t port)> spec;
    int status;
};

RequestSpec withOrigin(std::optional<std::string> origin) {
    RequestSpec spec;
    spec.origin = std::move(origin);
    return spec;
}

RequestSpec withHost(std::string host) {
    RequestSpec spec;
    spec.host = std::move(host);
    return spec;
}

RequestSpec withPath(std::string path) {
    RequestSpec spec;
    spec.path = std::move(path);
    return spec;
}

std::vector<Variant> hostileHandshakes() {
    const auto origin = [](std::string value) {
        return [value](std::uint16_t) { return withOrigin(value); };
    };
    const auto host = [](std::string name) {
        return [name](std::uint16_t port) { return withHost(withPort(name, port)); };
    };
    const auto path = [](std::string value) {
        return [value](std::uint16_t) { return withPath(value); };
    };
    return {
        // Origin: only the allowed origin, byte for byte after lower-casing scheme and host.
        {"originTrailingDot_403", origin("https://ams.example.id."), 403},
        {"originUpperCaseTrailingDot_403", origin("HTTPS://AMS.EXAMPLE.ID."), 403},
        {"originExplicitDefaultPort_403", origin("https://ams.example.id:443"), 403},
        {"originAllowedAsPrefixOfHost_403", origin("https://ams.example.id.evil.com"), 403},
        {"originAllowedInPath_403", origin("https://evil.com/https://ams.example.id"), 403},
        {"originWithTrailingSlash_403", origin("https://ams.example.id/"), 403},
        {"originHttpScheme_403", origin("http://ams.example.id"), 403},
        {"originNull_403", origin("null"), 403},
        {"originUserinfo_403", origin("https://user@ams.example.id"), 403},
        {"originWildcard_403", origin("https://*.example.id"), 403},
        {"originMissing_403", [](std::uint16_t) { return withOrigin(std::nullopt); }, 403},
        {"originDuplicated_403",
         [](std::uint16_t) {
             RequestSpec spec;
             spec.extra = {{"Origin", std::string(kOrigin)}};
             return spec;
         },
         403},
        // Host: a loopback name with the agent's port, else a DNS-rebinding attempt.
        {"hostIpv4MappedIpv6_403", host("[::ffff:127.0.0.1]"), 403},
        {"hostUncompressedIpv6Loopback_403", host("[0:0:0:0:0:0:0:1]"), 403},
        {"hostRebindingName_403", host("evil.com"), 403},
        {"hostLoopbackWildcardDns_403", host("127.0.0.1.nip.io"), 403},
        {"hostLocalhostTrailingDot_403", host("localhost."), 403},
        {"hostShortIpv4_403", host("127.1"), 403},
        {"hostHexIpv4_403", host("0x7f000001"), 403},
        {"hostWithoutPort_403", [](std::uint16_t) { return withHost("127.0.0.1"); }, 403},
        {"hostDuplicated_400",
         [](std::uint16_t port) {
             RequestSpec spec;
             spec.extra = {{"Host", withPort("127.0.0.1", port)}};
             return spec;
         },
         400},
        {"hostMissing_400",
         [](std::uint16_t) {
             RequestSpec spec;
             spec.sendHost = false;
             return spec;
         },
         400},
        // The upgrade itself.
        {"upgradeHeaderMissing_404",
         [](std::uint16_t) {
             RequestSpec spec;
             spec.sendUpgrade = false;
             return spec;
         },
         404},
        {"upgradeByPost_404",
         [](std::uint16_t) {
             RequestSpec spec;
             spec.method = "POST";
             return spec;
         },
         404},
        // Beast's own checks after the policy (RFC 6455 section 4.2.2: 400, and 426 with the
        // version it speaks).
        {"secWebSocketKeyMissing_400",
         [](std::uint16_t) {
             RequestSpec spec;
             spec.sendKey = false;
             return spec;
         },
         400},
        {"secWebSocketVersionWrong_426",
         [](std::uint16_t) {
             RequestSpec spec;
             spec.wsVersion = "8";
             return spec;
         },
         426},
        // The path is exactly /v1.
        {"pathRoot_403", path("/"), 403},
        {"pathTrailingSlash_403", path("/v1/"), 403},
        {"pathUpperCase_403", path("/V1"), 403},
        {"pathWithQuery_403", path("/v1?x=1"), 403},
        {"pathDotSegments_403", path("/v1/../v1"), 403},
        {"pathDoubleSlash_403", path("//v1"), 403},
        {"pathAbsoluteForm_403",
         [](std::uint16_t port) {
             return withPath("http://" + withPort("127.0.0.1", port) + "/v1");
         },
         403},
        // A header section over the 8 KiB the agent reads.
        {"headerSectionOver8KiB_400",
         [](std::uint16_t) {
             RequestSpec spec;
             spec.extra = {{"X-Padding", std::string(8 * 1024, 'a')}};
             return spec;
         },
         400},
    };
}

class HostileTest : public AgentTest {
protected:
    void SetUp() override {
        AgentTest::SetUp();
        ASSERT_NO_FATAL_FAILURE(startAgent());
    }

    std::string host() const { return withPort("127.0.0.1", port()); }

    /** A well-behaved page can still connect and is answered. */
    void expectAgentServing() {
        auto client = connect();
        EXPECT_TRUE(succeeded(client->call("agent.info")));
    }

    /** A message of exactly size bytes, a JSON-RPC request padded with one string. */
    static std::string paddedRequest(std::size_t size) {
        const std::string head =
            R"({"jsonrpc":"2.0","id":1,"method":"agent.info","params":{"pad":")";
        const std::string tail = R"("}})";
        return head + std::string(size - head.size() - tail.size(), 'a') + tail;
    }
};

std::string variantName(const ::testing::TestParamInfo<Variant>& variant) {
    return variant.param.name;
}

class HostileHandshakeTest : public HostileTest, public ::testing::WithParamInterface<Variant> {};

TEST_P(HostileHandshakeTest, upgrade_hostileVariant_refusedAndAgentServing) {
    const std::string request = buildRequest(GetParam().spec(port()), port());

    const HttpResponse response = rawHttp(port(), request);

    EXPECT_EQ(response.status, GetParam().status) << response.headers << response.body;
    EXPECT_EQ(lowerCase(response.headers).find("sec-websocket-accept"), std::string::npos)
        << response.headers;
    expectAgentServing();
}

INSTANTIATE_TEST_SUITE_P(Variants, HostileHandshakeTest, ::testing::ValuesIn(hostileHandshakes()),
                         variantName);

TEST(HostileHandshakeVariants, list_always_atLeastTwentyDistinctVariants) {
    const auto variants = hostileHandshakes();
    std::set<std::string> names;
    for (const auto& variant : variants) {
        names.insert(variant.name);
    }
    EXPECT_EQ(names.size(), variants.size());
    EXPECT_GE(variants.size(), 20u);
}

// Sanity check of the variants' base: unchanged, the request is upgraded, so each variant is
// refused for the one thing it changes.
TEST_F(HostileTest, upgrade_unchangedBaseRequest_switchesProtocols) {
    const HttpResponse response = rawHttp(port(), buildRequest(RequestSpec{}, port()));

    EXPECT_EQ(response.status, 101) << response.headers << response.body;
}

TEST_F(HostileTest, connections_seventeenth_503UntilOneCloses) {
    std::vector<std::unique_ptr<kunci::test::WsClient>> clients;
    for (std::size_t i = 0; i < kMaxConnections; ++i) {
        clients.push_back(connect());
        ASSERT_TRUE(succeeded(clients.back()->call("agent.info"))) << "connection " << i + 1;
    }

    const HttpResponse refused = rawHttp(port(), upgradeRequest("/v1", host(), kOrigin));
    EXPECT_EQ(refused.status, 503) << refused.headers << refused.body;
    try {
        kunci::test::WsClient extra(port(), std::string(kOrigin));
        ADD_FAILURE() << "a 17th WebSocket connection was accepted";
    } catch (const kunci::test::HandshakeRefused& e) {
        EXPECT_EQ(e.status, 503);
    }
    for (auto& client : clients) {
        EXPECT_TRUE(succeeded(client->call("agent.info")));
    }

    clients.front()->close();
    clients.erase(clients.begin());

    // The agent frees the slot when its end of the closed connection is torn down, a moment
    // after our close completes; nothing on the wire tells us when, so a new page retries
    // while it is told 503, as the page client does. Any other answer ends the loop.
    std::unique_ptr<kunci::test::WsClient> replacement;
    constexpr int kAttempts = 1000;
    int refusals = 0;
    for (int attempt = 0; attempt < kAttempts && !replacement; ++attempt) {
        try {
            replacement = connect();
        } catch (const kunci::test::HandshakeRefused& e) {
            ASSERT_EQ(e.status, 503);
            ++refusals;
        }
    }
    ASSERT_TRUE(replacement) << "still 503 after " << refusals << " attempts";
    EXPECT_TRUE(succeeded(replacement->call("agent.info")));
    EXPECT_TRUE(succeeded(clients.back()->call("agent.info")));
}

/** A page that pipelines many requests on one connection without waiting for answers, and
 *  reads the answers on its own thread. One io_context, one thread: one read and one write
 *  outstanding at a time, as Beast allows. */
class FloodingPage {
public:
    FloodingPage(std::uint16_t port, std::size_t requests)
        : ws_(io_), requests_(requests), frame_(requests) {
        auto& stream = beast::get_lowest_layer(ws_);
        stream.expires_after(std::chrono::seconds(30));  // a safety net, not a timing check
        stream.connect(net::ip::tcp::endpoint(net::ip::address_v4::loopback(), port));
        ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
            request.set(beast::http::field::origin, std::string(kOrigin));
        }));
        ws_.handshake(withPort("127.0.0.1", port), "/v1");
        stream.expires_never();
        for (std::size_t i = 0; i < requests_; ++i) {
            frame_[i] = Json{{"jsonrpc", "2.0"}, {"id", i + 1}, {"method", "agent.info"}}.dump();
        }
    }

    FloodingPage(const FloodingPage&) = delete;
    FloodingPage& operator=(const FloodingPage&) = delete;

    ~FloodingPage() {
        io_.stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    /** Starts sending every request and reading the answers on the page's thread. */
    void start() {
        beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(120));
        ws_.text(true);
        write(0);
        read();
        thread_ = std::thread([this] { io_.run(); });
    }

    /** Blocks until every request has been handed to the socket (or writing failed). */
    void waitUntilAllSent() { sent_.get_future().wait(); }

    /** Blocks until every answer has arrived (or reading failed); then the answers' ids. */
    std::multiset<std::int64_t> waitForAllAnswers() {
        answered_.get_future().wait();
        io_.stop();  // nothing is left to run; do not wait for the stream's timers to wind down
        thread_.join();
        std::lock_guard lock(mutex_);
        return ids_;
    }

    std::size_t answersSoFar() const { return answers_.load(); }
    std::size_t failedAnswers() const { return failed_.load(); }
    std::string error() const {
        std::lock_guard lock(mutex_);
        return error_;
    }

private:
    void write(std::size_t index) {
        if (index == requests_) {
            sent_.set_value();
            return;
        }
        ws_.async_write(net::buffer(frame_[index]), [this, index](ErrorCode ec, std::size_t) {
            if (ec) {
                fail("write " + std::to_string(index + 1) + ": " + ec.message());
                sent_.set_value();
                return;
            }
            write(index + 1);
        });
    }

    void read() {
        ws_.async_read(buffer_, [this](ErrorCode ec, std::size_t) {
            if (ec) {
                fail("read after " + std::to_string(answers_.load()) + " answers: " + ec.message());
                answered_.set_value();
                return;
            }
            const Json answer = Json::parse(beast::buffers_to_string(buffer_.data()), nullptr,
                                            /*allow_exceptions=*/false);
            buffer_.consume(buffer_.size());
            {
                std::lock_guard lock(mutex_);
                ids_.insert(answer.is_object() ? answer.value("id", std::int64_t{-1}) : -1);
            }
            if (!answer.is_object() || !answer.contains("result")) {
                failed_.fetch_add(1);
            }
            if (answers_.fetch_add(1) + 1 == requests_) {
                answered_.set_value();
                return;
            }
            read();
        });
    }

    void fail(std::string what) {
        std::lock_guard lock(mutex_);
        if (error_.empty()) {
            error_ = std::move(what);
        }
    }

    net::io_context io_;
    websocket::stream<beast::tcp_stream> ws_;
    std::size_t requests_;
    std::vector<std::string> frame_;
    beast::flat_buffer buffer_;
    std::thread thread_;
    std::promise<void> sent_;
    std::promise<void> answered_;
    std::atomic<std::size_t> answers_{0};
    std::atomic<std::size_t> failed_{0};
    mutable std::mutex mutex_;
    std::multiset<std::int64_t> ids_;
    std::string error_;
};

TEST_F(HostileTest, flood_2000PipelinedRequests_otherPageAnsweredWhileFloodOutstanding) {
    constexpr std::size_t kFlood = 2000;
    auto other = connect();
    FloodingPage flood(port(), kFlood);

    flood.start();
    flood.waitUntilAllSent();
    // The whole flood is ahead of this request; it must not wait behind all of it.
    const Json otherAnswer = other->call("agent.info");
    const std::size_t floodAnsweredBefore = flood.answersSoFar();
    const auto ids = flood.waitForAllAnswers();

    EXPECT_TRUE(succeeded(otherAnswer));
    EXPECT_LT(floodAnsweredBefore, kFlood)
        << "the other page was answered only after the whole flood";
    EXPECT_EQ(flood.error(), "");
    EXPECT_EQ(flood.failedAnswers(), 0u);
    ASSERT_EQ(ids.size(), kFlood);
    std::multiset<std::int64_t> expected;
    for (std::size_t i = 1; i <= kFlood; ++i) {
        expected.insert(static_cast<std::int64_t>(i));
    }
    EXPECT_EQ(ids, expected) << "every request answered exactly once";
    expectAgentServing();
}

TEST_F(HostileTest, message_oneMiBPlusOneInFragments_closes1009AndAgentKeepsServing) {
    auto bystander = connect();
    auto client = connect();
    const std::string message = paddedRequest(kMaxMessageBytes + 1);
    ASSERT_EQ(message.size(), kMaxMessageBytes + 1);

    try {
        client->sendText(message, /*fragmented=*/true);
    } catch (const std::exception&) {
        // The agent may close while the last fragments are still being written; the close
        // code tells what happened.
    }
    const auto code = client->readUntilClosed();

    EXPECT_EQ(code, 1009);
    EXPECT_TRUE(succeeded(bystander->call("agent.info")));
    expectAgentServing();
}

TEST_F(HostileTest, message_oneMiBPlusOneInOneFrame_closes1009AndAgentKeepsServing) {
    auto client = connect();
    const std::string message = paddedRequest(kMaxMessageBytes + 1);

    try {
        client->sendText(message);
    } catch (const std::exception&) {
        // As above: the close code tells.
    }
    const auto code = client->readUntilClosed();

    EXPECT_EQ(code, 1009);
    expectAgentServing();
}

}  // namespace
}  // namespace kunci::e2e
