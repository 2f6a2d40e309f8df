#include "api/api.h"

#include <exception>

#include <spdlog/spdlog.h>

#include "api/handlers.h"
#include "api/json_reader.h"
#include "api/json_writer.h"
#include "api/problem.h"
#include "api/router.h"

namespace quiver::api {
namespace {

HttpResponse status_body(int status, std::string_view value) {
  JsonWriter w;
  w.begin_object();
  w.key("status");
  w.string(value);
  w.end_object();
  return json_response(status, std::move(w));
}

HttpResponse version_body() {
  BuildInfo info = build_info();
  JsonWriter w;
  w.begin_object();
  w.key("version");
  w.string(info.version);
  w.key("git_sha");
  w.string(info.git_sha);
  w.end_object();
  return json_response(200, std::move(w));
}

HttpResponse dispatch_v1(RouteId id, std::string_view method, const RequestContext& ctx) {
  const bool get = method == "GET", post = method == "POST", patch = method == "PATCH";
  switch (id) {
    case RouteId::kLibraries: return get ? list_libraries(ctx) : create_library(ctx);
    case RouteId::kLibrary:
      return get ? get_library(ctx) : patch ? update_library(ctx) : delete_library(ctx);
    case RouteId::kDocuments: return get ? list_documents(ctx) : create_document(ctx);
    case RouteId::kDocument:
      return get ? get_document(ctx) : patch ? update_document(ctx) : delete_document(ctx);
    case RouteId::kDocumentChunks: return get ? list_chunks(ctx) : create_chunks(ctx);
    case RouteId::kChunk:
      return get ? get_chunk(ctx) : patch ? update_chunk(ctx) : delete_chunk(ctx);
    case RouteId::kSearch: return search(ctx);
    case RouteId::kIndex: return post ? rebuild_index(ctx) : get_index(ctx);
    default: break;
  }
  return problem_response(Status::internal("route without a handler"));
}

}  // namespace

HttpResponse Api::handle(const HttpRequest& request) const {
  Target target;
  if (!parse_target(request.target, &target)) {
    return http_problem(400, "malformed", "the query string holds a malformed percent-escape",
                        {{"", "malformed percent-escape in the query string"}});
  }
  RouteMatch match = match_route(request.method, target.path);
  switch (match.outcome) {
    case RouteMatch::Outcome::kNotFound:
      return http_problem(404, "route_not_found",
                          "no route matches " + request.method + " " + target.path);
    case RouteMatch::Outcome::kBadPath:
      return http_problem(400, "malformed", "the path holds a malformed percent-escape",
                          {{"", "malformed percent-escape in the path"}});
    case RouteMatch::Outcome::kMethodNotAllowed: {
      HttpResponse r = http_problem(405, "method_not_allowed",
                                    "method " + request.method + " is not allowed on " +
                                        std::string(match.route->pattern) + "; allowed: " +
                                        match.allow);
      r.set_header("Allow", match.allow);
      return r;
    }
    case RouteMatch::Outcome::kFound: break;
  }

  const RouteId id = match.route->id;
  switch (id) {
    case RouteId::kHealthz: return status_body(200, "ok");
    case RouteId::kReadyz:
      if (ready()) return status_body(200, "ready");
      return http_problem(503, "unavailable",
                          shutting_down_.load() ? "the server is shutting down"
                                                : "the database is still opening");
    case RouteId::kVersion: return version_body();
    case RouteId::kOpenApi: {
      HttpResponse r;
      r.body = std::string(openapi_document());
      return r;
    }
    default: break;
  }

  engine::Database* db = db_.load(std::memory_order_acquire);
  if (db == nullptr) {
    return problem_response(Status::unavailable("the database is still opening; retry shortly"));
  }
  const bool has_body_method = request.method == "POST" || request.method == "PATCH";
  if (has_body_method && !request.body.empty() && !is_json_content_type(request.content_type)) {
    return http_problem(415, "unsupported_media_type",
                        "request bodies must be application/json, got '" +
                            (request.content_type.empty() ? std::string("none")
                                                          : request.content_type) +
                            "'",
                        {{"Content-Type", "expected application/json"}});
  }
  RequestContext ctx{*db, request, match.params, target.query};
  try {
    HttpResponse response = dispatch_v1(id, request.method, ctx);
    trim_thread_parser();  // the response is encoded: no parsed element is in use any more
    return response;
  } catch (const std::exception& e) {
    trim_thread_parser();
    // Nothing below should throw (errors are values); std::bad_alloc can. Never let an
    // exception kill a worker thread.
    return problem_response(Status::internal(std::string("exception in handler: ") + e.what()));
  }
}

}  // namespace quiver::api
