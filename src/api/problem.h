// problem+json (RFC 9457): the ONE place where a quiver::Status becomes an HTTP status and
// an error body. Body shape:
//   {"type":"urn:quiver:problem:<code>","title":"<reason phrase>","status":<int>,
//    "detail":"<sentence>","errors":[{"field","message"}...]}
// 5xx statuses are logged with their detail; 500 bodies never carry internals.
//
// Thread-safety: pure functions (logging goes through spdlog, which is thread-safe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "common/status.h"

namespace quiver::api {

// HTTP status for an engine status code (kOk -> 200).
int http_status_for(StatusCode code);

// The problem code in "urn:quiver:problem:<code>" for an engine status code.
std::string_view problem_code_for(StatusCode code);

// The standard reason phrase ("Unprocessable Entity"); "Unknown" for unlisted codes.
std::string_view reason_phrase(int status);

// The response for a failed engine/decoder status. REQUIRES: !status.is_ok().
HttpResponse problem_response(const Status& status);

// A problem raised by the HTTP layer itself (route_not_found, method_not_allowed,
// unsupported_media_type, payload_too_large, ...).
HttpResponse http_problem(int http_status, std::string_view code, std::string detail,
                          const std::vector<FieldError>& errors = {});

}  // namespace quiver::api
