#include "embed/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <charconv>
#include <cstdlib>
#include <mutex>
#include <random>
#include <semaphore>
#include <thread>

namespace quiver::embed {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kMaxConnectTimeoutMs = 10000;
constexpr int64_t kBackoffBaseMs = 200;
constexpr int64_t kBackoffCapMs = 5000;
constexpr int64_t kRetryAfterCapMs = 10000;
constexpr size_t kMaxResponseBytes = size_t{64} << 20;  // 256 x 3072 floats is ~15 MB of text
constexpr size_t kMaxIdleHandles = 2 * kMaxConcurrentProviderCalls;

void init_curl_once() {
  // curl_global_init is not guaranteed thread-safe on every libcurl build; run it once.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Idle easy handles. A handle keeps its connection cache across curl_easy_reset, so taking a
// recently used one usually finds a live keep-alive connection to the same provider.
class HandlePool {
 public:
  CURL* acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void release(CURL* h) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h);
  }

 private:
  std::mutex mu_;
  std::vector<CURL*> idle_;  // GUARDED_BY(mu_)
};

// Both singletons are intentionally leaked: destroying them at exit could race with a
// detached thread still finishing a call, and the OS reclaims sockets anyway.
HandlePool& handle_pool() {
  static auto* pool = new HandlePool();
  return *pool;
}
std::counting_semaphore<kMaxConcurrentProviderCalls>& call_slots() {
  static auto* slots = new std::counting_semaphore<kMaxConcurrentProviderCalls>(
      kMaxConcurrentProviderCalls);
  return *slots;
}

struct BodySink {
  std::string data;
  bool overflow = false;
};

size_t write_body(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* sink = static_cast<BodySink*>(userdata);
  const size_t n = size * nmemb;
  if (sink->data.size() + n > kMaxResponseBytes) {
    sink->overflow = true;
    return 0;  // makes curl_easy_perform fail with CURLE_WRITE_ERROR
  }
  sink->data.append(ptr, n);
  return n;
}

enum class Outcome { kOk, kRetry, kFatal };

struct Attempt {
  Outcome outcome = Outcome::kFatal;
  std::string body;            // the response body when kOk
  Status error;                // why it failed otherwise
  int64_t retry_after_ms = -1;  // from a Retry-After header, -1 when absent
};

bool is_retryable_transport_error(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// Retry-After in whole seconds; HTTP-date forms are rare for these APIs and are ignored.
int64_t parse_retry_after_ms(CURL* h) {
  struct curl_header* hdr = nullptr;
  if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK || !hdr) {
    return -1;
  }
  std::string_view v(hdr->value);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc() || seconds < 0) return -1;
  return std::min(seconds * 1000, kRetryAfterCapMs);
}

Attempt attempt_once(const HttpPost& req, int64_t timeout_ms) {
  Attempt out;
  CURL* h = handle_pool().acquire();
  if (h == nullptr) {
    out.error = Status(StatusCode::kUpstreamError, req.provider + ": could not create an HTTP handle");
    return out;
  }
  curl_easy_reset(h);
  BodySink sink;
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for big bodies
  for (const std::string& line : req.headers) headers = curl_slist_append(headers, line.c_str());

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts must not use SIGALRM in a threaded server
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "quiver-embed/0.1");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(timeout_ms, kMaxConnectTimeoutMs)));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);

  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (rc == CURLE_OK) out.retry_after_ms = parse_retry_after_ms(h);
  curl_slist_free_all(headers);
  handle_pool().release(h);

  if (rc == CURLE_OPERATION_TIMEDOUT) {
    out.outcome = Outcome::kRetry;
    out.error = Status(StatusCode::kUpstreamTimeout,
                       fmt::format("{}: no answer within {} ms", req.provider, timeout_ms));
    return out;
  }
  if (rc != CURLE_OK) {
    out.outcome = is_retryable_transport_error(rc) ? Outcome::kRetry : Outcome::kFatal;
    const std::string why = sink.overflow ? fmt::format("response larger than {} bytes",
                                                        kMaxResponseBytes)
                                          : std::string(curl_easy_strerror(rc));
    out.error = Status(StatusCode::kUpstreamError,
                       fmt::format("{}: request failed: {}", req.provider, why));
    return out;
  }
  if (status >= 200 && status < 300) {
    out.outcome = Outcome::kOk;
    out.body = std::move(sink.data);
    return out;
  }
  out.outcome = (status == 429 || status >= 500) ? Outcome::kRetry : Outcome::kFatal;
  std::string detail;
  if (status == 401 || status == 403) {
    detail = "authentication failed (check the API key and api_key_env)";
  } else {
    detail = provider_error_message(sink.data);
  }
  out.error = Status(StatusCode::kUpstreamError,
                     detail.empty() ? fmt::format("{}: HTTP {}", req.provider, status)
                                    : fmt::format("{}: HTTP {}: {}", req.provider, status, detail));
  return out;
}

// Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))], so clients that failed together
// do not retry together.
int64_t backoff_ms(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const int64_t ceiling = std::min(kBackoffCapMs, kBackoffBaseMs << std::min(attempt - 1, 20));
  return std::uniform_int_distribution<int64_t>(0, ceiling)(rng);
}

int64_t ms_until(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
}

}  // namespace

int64_t embed_timeout_ms() {
  const char* env = std::getenv("QUIVER_EMBED_TIMEOUT_MS");
  if (env == nullptr) return kDefaultTimeoutMs;
  std::string_view v(env);
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
  if (ec != std::errc() || end != v.data() + v.size() || ms < 1 || ms > 3600000) {
    return kDefaultTimeoutMs;
  }
  return ms;
}

std::string provider_error_message(std::string_view body, size_t max_len) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return "";
  std::string_view msg;
  simdjson::dom::element err;
  if (root["error"].get(err) == simdjson::SUCCESS) {
    if (err.get_string().get(msg) != simdjson::SUCCESS) {
      if (err["message"].get_string().get(msg) != simdjson::SUCCESS) msg = {};
    }
  } else if (root["message"].get_string().get(msg) != simdjson::SUCCESS) {
    msg = {};
  }
  if (msg.size() > max_len) return std::string(msg.substr(0, max_len)) + "...";
  return std::string(msg);
}

Result<std::string> post_json(const HttpPost& req) {
  init_curl_once();
  const int64_t timeout_ms = embed_timeout_ms();
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(2 * timeout_ms);

  auto& slots = call_slots();
  if (!slots.try_acquire_until(deadline)) {
    return Status(StatusCode::kUpstreamTimeout,
                  fmt::format("{}: timed out waiting for one of {} concurrent provider calls",
                              req.provider, kMaxConcurrentProviderCalls));
  }
  struct SlotRelease {
    std::counting_semaphore<kMaxConcurrentProviderCalls>& s;
    ~SlotRelease() { s.release(); }
  } slot_release{slots};

  Status last;
  for (int attempt = 1;; ++attempt) {
    const int64_t remaining = ms_until(deadline);
    if (remaining <= 0) {
      if (!last.is_ok()) return last;
      return Status(StatusCode::kUpstreamTimeout,
                    fmt::format("{}: no answer within {} ms", req.provider, timeout_ms));
    }
    Attempt a = attempt_once(req, std::min(timeout_ms, remaining));
    if (a.outcome == Outcome::kOk) return std::move(a.body);
    last = std::move(a.error);
    if (a.outcome == Outcome::kFatal || attempt == kMaxAttempts) break;
    const int64_t wait = a.retry_after_ms >= 0 ? a.retry_after_ms : backoff_ms(attempt);
    if (wait >= ms_until(deadline)) break;  // no time left for another try
    spdlog::warn("embed: {}; retrying in {} ms (attempt {}/{})", last.message(), wait,
                 attempt + 1, kMaxAttempts);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
  spdlog::warn("embed: giving up: {}", last.message());
  return Status(last.code(), last.message());
}

}  // namespace quiver::embed
