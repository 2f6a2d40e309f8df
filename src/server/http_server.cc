#include "server/http_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "server/http_session.h"

namespace quiver::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

HttpServer::HttpServer(net::io_context& ioc, ServerOptions options, Handler handler)
    : ioc_(ioc), shared_(std::make_shared<ServerShared>()), acceptor_(net::make_strand(ioc)) {
  shared_->options = std::move(options);
  shared_->handler = std::move(handler);
}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::listen() {
  boost::system::error_code ec;
  const auto address = net::ip::make_address(shared_->options.address, ec);
  if (ec) return Status::invalid_field("address", "not an IP address: " + ec.message());
  tcp::endpoint endpoint(address, shared_->options.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::io_error("cannot listen on " + shared_->options.address + ":" +
                            std::to_string(shared_->options.port) + ": " + ec.message());
  }
  return acceptor_.local_endpoint().port();
}

void HttpServer::start_accepting() { do_accept(); }

void HttpServer::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](boost::system::error_code ec,
                                                        tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      start_session(std::move(socket), shared_);
    } else {
      // E.g. EMFILE: keep accepting rather than going deaf.
      spdlog::warn("accept failed: {}", ec.message());
    }
    do_accept();
  });
}

void HttpServer::stop_accepting() {
  // The acceptor lives on its strand; close it there, not from this thread.
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

}  // namespace quiver::server
