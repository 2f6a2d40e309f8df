// HttpServer: async HTTP/1.1 with keep-alive on Boost.Beast, driving an api::Api-style
// handler. Transport concerns only: limits, timeouts, keep-alive, access log, drain.
//
// Each connection runs on its own strand; a request is handled synchronously on the
// worker thread that finished reading it (engine calls may block on fsync), so the number
// of concurrently executing requests is at most the number of io_context threads.
//
// Limits: header block <= max_header_bytes (else 431); body <= max_body_bytes (else 413,
// decided from Content-Length before any body byte is read, or by the parser's body
// limit for chunked bodies); header read, body read and idle keep-alive timeouts.
//
// Thread-safety: listen() and start_accepting() are called once from the owning thread;
// stop_accepting(), begin_drain() and in_flight() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "api/http_types.h"
#include "common/status.h"

namespace quiver::server {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 = ephemeral
  std::size_t max_body_bytes = 64u << 20;
  std::size_t max_header_bytes = 16u << 10;
  std::chrono::seconds header_timeout{30};  // to receive a complete header block
  std::chrono::seconds body_timeout{120};   // to receive the body once headers are in
  std::chrono::seconds idle_timeout{60};    // keep-alive: wait for the next request
};

using Handler = std::function<api::HttpResponse(const api::HttpRequest&)>;

// State shared by the server and every connection; outlives both through shared_ptr.
struct ServerShared {
  ServerOptions options;
  Handler handler;
  std::atomic<std::size_t> in_flight{0};  // requests read and not yet fully answered
  std::atomic<bool> draining{false};      // answer with Connection: close
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Returns the bound port (the real one when options.port is 0).
  Result<uint16_t> listen();
  // Starts accepting connections on the io_context. REQUIRES: listen() succeeded.
  void start_accepting();
  // Closes the listening socket; established connections continue.
  void stop_accepting();
  // From now on responses carry Connection: close, so keep-alive clients go away.
  void begin_drain() { shared_->draining.store(true); }
  std::size_t in_flight() const { return shared_->in_flight.load(); }

 private:
  void do_accept();

  boost::asio::io_context& ioc_;
  std::shared_ptr<ServerShared> shared_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace quiver::server
