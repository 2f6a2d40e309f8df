// HttpServer over real sockets on 127.0.0.1 with an echo handler.
#include "server/http_server.h"

#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

namespace quiver::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.port = 0;
    o.max_body_bytes = 100;
    o.max_header_bytes = 2048;
    server_ = std::make_unique<HttpServer>(ioc_, o, [this](const api::HttpRequest& r) {
      ++calls_;
      api::HttpResponse out;
      out.body = r.method + " " + r.target + " " + std::to_string(r.body.size()) + " " +
                 r.content_type + " " + (r.has_if_match ? r.if_match : "-");
      out.content_type = "text/plain";
      out.set_header("ETag", "\"1\"");
      return out;
    });
    auto port = server_->listen();
    ASSERT_TRUE(port.is_ok());
    port_ = *port;
    server_->start_accepting();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  tcp::socket connect() {
    tcp::socket s(client_ioc_);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    return s;
  }
  http::response<http::string_body> roundtrip(tcp::socket& s, http::request<http::string_body> req) {
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  }

  net::io_context ioc_;
  net::io_context client_ioc_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<int> calls_{0};
};

http::request<http::string_body> make(http::verb v, std::string target, std::string body = "") {
  http::request<http::string_body> req{v, target, 11};
  req.set(http::field::host, "localhost");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  tcp::socket s = connect();
  auto req = make(http::verb::post, "/a?x=1", "{}");
  req.set(http::field::if_match, "\"7\"");
  auto res = roundtrip(s, req);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "POST /a?x=1 2 application/json \"7\"");
  EXPECT_EQ(res[http::field::etag], "\"1\"");
  EXPECT_TRUE(res.keep_alive());
  res = roundtrip(s, make(http::verb::get, "/b"));
  EXPECT_EQ(res.body(), "GET /b 0  -");
  EXPECT_EQ(calls_.load(), 2);
  // The count drops when the write completes on the server side, which may trail the
  // client's read by a moment.
  for (int i = 0; i < 500 && server_->in_flight() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(server_->in_flight(), 0u);
}

TEST_F(ServerTest, OversizedContentLengthIs413WithoutCallingTheHandler) {
  tcp::socket s = connect();
  auto res = roundtrip(s, make(http::verb::post, "/a", std::string(101, 'x')));
  EXPECT_EQ(res.result_int(), 413u);
  EXPECT_EQ(res[http::field::content_type], "application/problem+json");
  EXPECT_NE(res.body().find("payload_too_large"), std::string::npos);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, BodyAtTheLimitIsAccepted) {
  tcp::socket s = connect();
  auto res = roundtrip(s, make(http::verb::post, "/a", std::string(100, 'x')));
  EXPECT_EQ(res.result_int(), 200u);
}

TEST_F(ServerTest, OversizedChunkedBodyIs413) {
  tcp::socket s = connect();
  std::string raw =
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) raw += "40\r\n" + std::string(64, 'x') + "\r\n";
  raw += "0\r\n\r\n";
  net::write(s, net::buffer(raw));
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 413u);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, HugeHeaderIsRejected) {
  tcp::socket s = connect();
  auto req = make(http::verb::get, "/a");
  req.set("X-Big", std::string(4096, 'y'));
  auto res = roundtrip(s, req);
  EXPECT_EQ(res.result_int(), 431u);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, DrainingClosesKeepAlive) {
  tcp::socket s = connect();
  server_->begin_drain();
  auto res = roundtrip(s, make(http::verb::get, "/a"));
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_FALSE(res.keep_alive());
}

TEST_F(ServerTest, StopAcceptingRefusesNewConnections) {
  server_->stop_accepting();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  tcp::socket s(client_ioc_);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace quiver::server
