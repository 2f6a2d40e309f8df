// Internal to server/: one HTTP/1.1 connection (read request -> handle -> write response,
// repeated while keep-alive holds). All of a session's work runs on its socket's strand.
// Thread-safety: a Session is used only through its strand.
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "server/http_server.h"

namespace quiver::server {

// Starts serving `socket` (whose executor must be a strand). The session keeps itself
// alive through its pending operations and ends when the connection closes.
void start_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerShared> shared);

}  // namespace quiver::server
