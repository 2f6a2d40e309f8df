// Internal to api/: the per-route handlers and the request helpers they share.
// Thread-safety: pure functions of their arguments (the Database is thread-safe).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "api/http_types.h"
#include "api/json_writer.h"
#include "api/router.h"
#include "common/status.h"
#include "engine/database.h"

namespace quiver::api {

struct RequestContext {
  engine::Database& db;
  const HttpRequest& request;
  const std::map<std::string, std::string>& params;  // path captures, decoded
  const std::vector<std::pair<std::string, std::string>>& query;
  const std::string& param(const std::string& name) const { return params.at(name); }
};

// ---- helpers (api_helpers.cc)
// The last value of query parameter `name`, or nullptr.
const std::string* query_param(const RequestContext& ctx, std::string_view name);
// ?limit= and ?cursor=: 400 when limit is not an integer, 422 when out of 1..1000.
Result<engine::PageRequest> parse_page(const RequestContext& ctx);
// If-Match: "3", 3, W/"3" or * (-> nullopt); anything else is 400 on field If-Match.
Result<engine::IfMatch> parse_if_match(const HttpRequest& request);
// True when the Content-Type media type is application/json (parameters allowed).
bool is_json_content_type(std::string_view content_type);
// The parsed JSON body. REQUIRES: content type already checked by the dispatcher.
Result<simdjson::dom::element> json_body(const RequestContext& ctx);

HttpResponse json_response(int status, JsonWriter&& w);
HttpResponse no_content();
void set_etag(HttpResponse& r, uint64_t version);

// ---- handlers (handlers.cc); each returns the full response, errors included.
HttpResponse list_libraries(const RequestContext& ctx);
HttpResponse create_library(const RequestContext& ctx);
HttpResponse get_library(const RequestContext& ctx);
HttpResponse update_library(const RequestContext& ctx);
HttpResponse delete_library(const RequestContext& ctx);
HttpResponse list_documents(const RequestContext& ctx);
HttpResponse create_document(const RequestContext& ctx);
HttpResponse get_document(const RequestContext& ctx);
HttpResponse update_document(const RequestContext& ctx);
HttpResponse delete_document(const RequestContext& ctx);
HttpResponse list_chunks(const RequestContext& ctx);
HttpResponse create_chunks(const RequestContext& ctx);
HttpResponse get_chunk(const RequestContext& ctx);
HttpResponse update_chunk(const RequestContext& ctx);
HttpResponse delete_chunk(const RequestContext& ctx);
HttpResponse search(const RequestContext& ctx);
HttpResponse get_index(const RequestContext& ctx);
HttpResponse rebuild_index(const RequestContext& ctx);

}  // namespace quiver::api
