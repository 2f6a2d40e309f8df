// Transport-neutral request and response values exchanged between the HTTP server
// (src/server, Boost.Beast) and the API layer. The API layer never sees sockets.
// Thread-safety: plain values.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quiver::api {

struct HttpRequest {
  std::string method;        // "GET", "POST", ... (upper case, as sent)
  std::string target;        // origin-form: path plus optional "?query"
  std::string content_type;  // "" when absent
  std::string if_match;      // "" when absent
  bool has_if_match = false;
  std::string body;          // request body; may carry spare capacity for the JSON parser
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (ETag, Allow)

  void set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

}  // namespace quiver::api
