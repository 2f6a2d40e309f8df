#include "server/http_session.h"

#include <chrono>
#include <optional>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "api/problem.h"

namespace quiver::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

// Spare bytes after a body so the JSON parser can read it in place (simdjson needs 64).
constexpr std::size_t kBodyPadding = 64;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<ServerShared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}

  void start() { read_header(); }

 private:
  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
    parser_->body_limit(shared_->options.max_body_bytes);
    // The first request must arrive promptly; later ones may idle up to idle_timeout.
    stream_.expires_after(first_request_ ? shared_->options.header_timeout
                                         : shared_->options.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    first_request_ = false;
    started_ = std::chrono::steady_clock::now();
    auto& req = parser_->get();
    if (auto len = parser_->content_length()) {
      if (*len > shared_->options.max_body_bytes) return reject_too_large();
      // Reserve once, with padding, so the body is neither regrown nor copied later.
      req.body().reserve(static_cast<std::size_t>(*len) + kBodyPadding);
    }
    stream_.expires_after(shared_->options.body_timeout);
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      // Clients such as curl wait (1 s) for this before sending a large body.
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
                          if (ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit) return reject_too_large();
    if (ec) return on_read_error(ec);
    shared_->in_flight.fetch_add(1);
    counted_ = true;
    handle();
  }

  void on_read_error(beast::error_code ec) {
    // The parser checks Content-Length against body_limit while reading the header.
    if (ec == http::error::body_limit) return reject_too_large();
    if (ec == http::error::header_limit) {
      api::HttpResponse r = api::http_problem(431, "malformed", "the request header block is too large");
      return send(std::move(r), "-", "-", /*keep_alive=*/false);
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset ||
        ec == boost::asio::error::eof) {
      return close();
    }
    // A syntactically broken request line or header: answer 400 once, then close.
    if (ec.category() == beast::error_code(http::error::bad_method).category()) {
      api::HttpResponse r = api::http_problem(400, "malformed", "malformed HTTP request: " + ec.message());
      return send(std::move(r), "-", "-", false);
    }
    spdlog::debug("connection read error: {}", ec.message());
    close();
  }

  void reject_too_large() {
    api::HttpResponse r = api::http_problem(
        413, "payload_too_large",
        "the request body exceeds the limit of " +
            std::to_string(shared_->options.max_body_bytes) + " bytes",
        {{"", "body too large"}});
    auto& req = parser_->get();
    // The unread body stays on the wire, so the connection cannot be reused.
    send(std::move(r), std::string(req.method_string()), path_of(req.target()), false);
  }

  static std::string path_of(beast::string_view target) {
    std::string t(target);
    return t.substr(0, t.find('?'));
  }

  void handle() {
    auto& req = parser_->get();
    api::HttpRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    if (auto it = req.find(http::field::content_type); it != req.end()) {
      in.content_type = std::string(it->value());
    }
    if (auto it = req.find(http::field::if_match); it != req.end()) {
      in.if_match = std::string(it->value());
      in.has_if_match = true;
    }
    in.body = std::move(req.body());
    const bool keep_alive = req.keep_alive();
    api::HttpResponse out;
    try {
      out = shared_->handler(in);
    } catch (const std::exception& e) {
      // An exception escaping here would unwind through io_context::run() and end the
      // worker thread; answer 500 instead.
      spdlog::error("handler threw: {}", e.what());
      out = api::http_problem(500, "internal", "the server failed to complete the request; see its log");
    }
    send(std::move(out), std::move(in.method), path_of(in.target), keep_alive);
  }

  void send(api::HttpResponse out, std::string method, std::string path, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(out.status));
    res->set(http::field::server, "quiverd");
    if (!out.content_type.empty()) res->set(http::field::content_type, out.content_type);
    for (auto& [name, value] : out.headers) res->set(name, value);
    res->body() = std::move(out.body);
    res->keep_alive(keep_alive && !shared_->draining.load());
    res->prepare_payload();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
            .count();
    spdlog::info("{} {} {} {:.2f}ms {}B", method, path, out.status, ms, res->body().size());
    response_ = res;
    stream_.expires_after(shared_->options.body_timeout);
    http::async_write(stream_, *res,
                      beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    const bool keep = response_ && response_->keep_alive();
    response_.reset();
    if (counted_) {
      counted_ = false;
      shared_->in_flight.fetch_sub(1);
    }
    if (ec || !keep) return close();
    read_header();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ServerShared> shared_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool first_request_ = true;
  bool counted_ = false;
};

}  // namespace

void start_session(tcp::socket socket, std::shared_ptr<ServerShared> shared) {
  std::make_shared<Session>(std::move(socket), std::move(shared))->start();
}

}  // namespace quiver::server
