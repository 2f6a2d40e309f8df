#include "api/problem.h"

#include <spdlog/spdlog.h>

#include "api/json_writer.h"

namespace quiver::api {

int http_status_for(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kMalformed: return 400;
    case StatusCode::kInvalidArgument: return 422;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict: return 409;
    case StatusCode::kPreconditionFailed: return 412;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kStorageFull: return 507;
    case StatusCode::kUpstreamError: return 502;
    case StatusCode::kUpstreamTimeout: return 504;
    case StatusCode::kIOError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

std::string_view problem_code_for(StatusCode code) {
  // Every 5xx of ours reads "internal": which part of the server broke is for the log, not
  // the client. The rest use the code's stable name.
  if (code == StatusCode::kOk) return "ok";
  if (http_status_for(code) == 500) return "internal";
  return status_code_name(code);
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
  }
}

HttpResponse http_problem(int http_status, std::string_view code, std::string detail,
                          const std::vector<FieldError>& errors) {
  JsonWriter w;
  w.begin_object();
  w.key("type");
  w.string(std::string("urn:quiver:problem:") + std::string(code));
  w.key("title");
  w.string(reason_phrase(http_status));
  w.key("status");
  w.int64(http_status);
  w.key("detail");
  w.string(detail);
  w.key("errors");
  w.begin_array();
  for (const FieldError& e : errors) {
    w.begin_object();
    w.key("field");
    w.string(e.field);
    w.key("message");
    w.string(e.message);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  HttpResponse r;
  r.status = http_status;
  r.content_type = "application/problem+json";
  r.body = w.take();
  return r;
}

HttpResponse problem_response(const Status& status) {
  const int http = http_status_for(status.code());
  if (http == 500) {
    // Internals (paths, RocksDB messages) go to the log only.
    spdlog::error("internal error: {}", status.to_string());
    return http_problem(http, problem_code_for(status.code()),
                        "the server failed to complete the request; see its log");
  }
  if (http >= 500) spdlog::warn("request failed: {}", status.to_string());
  return http_problem(http, problem_code_for(status.code()), status.message(),
                      status.field_errors());
}

}  // namespace quiver::api
