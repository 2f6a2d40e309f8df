// HTTP POST of JSON to embedding providers, with the policies every provider shares:
// a pool of reusable libcurl easy handles (each keeps its connections alive, so consecutive
// calls to one provider reuse TCP/TLS sessions), a process-wide cap on concurrent provider
// calls, connect + total timeouts, and retries with exponential backoff and full jitter.
//
// Timeouts: QUIVER_EMBED_TIMEOUT_MS (read on every call; default 30000) bounds each attempt;
// one post_json() call, retries and backoff included, never takes longer than twice that.
//
// Thread-safety: post_json() is safe to call concurrently from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quiver::embed {

// Process-wide limit on provider HTTP calls in flight; further callers wait (within their
// deadline) so a burst of writes cannot open hundreds of connections to a rate-limited API.
inline constexpr int kMaxConcurrentProviderCalls = 8;
inline constexpr int kMaxAttempts = 4;
inline constexpr int64_t kDefaultTimeoutMs = 30000;

// The per-attempt timeout now in force: QUIVER_EMBED_TIMEOUT_MS if it is an integer in
// 1..3600000, else kDefaultTimeoutMs.
int64_t embed_timeout_ms();

struct HttpPost {
  std::string provider;              // for messages: "openai", "cohere"
  std::string url;                   // absolute http(s) URL
  std::string body;                  // JSON request body
  std::vector<std::string> headers;  // extra "Name: value" lines (e.g. Authorization)
};

// POSTs `req` (Content-Type: application/json) and returns the body of a 2xx answer.
// Retries 429, 5xx, timeouts and connection failures up to kMaxAttempts times, honouring a
// Retry-After of whole seconds (capped). Errors, all naming req.provider and never containing
// header values: kUpstreamTimeout when the last attempt timed out (or the deadline ran out),
// else kUpstreamError (with the HTTP status and the provider's error message when it has one;
// for 401/403 the body is not echoed, since providers quote part of the key in it).
Result<std::string> post_json(const HttpPost& req);

// The provider's own error message from an error body ({"error":{"message"}}, {"error": "..."},
// {"message": "..."}), truncated to `max_len` bytes; "" when there is none. Exposed for tests.
std::string provider_error_message(std::string_view body, size_t max_len = 300);

}  // namespace quiver::embed
