// Api: the HTTP-facing application. Takes a transport-neutral HttpRequest, dispatches it
// through the route table (router.h) to a thin handler (decode -> engine call -> encode)
// and returns the HttpResponse. Knows nothing of sockets; src/server drives it.
//
// Engine calls are synchronous (a write may wait for fsync), so handle() blocks the
// calling worker thread for the duration of the engine call.
//
// Readiness: until set_database() publishes an open engine::Database, every /v1 route
// answers 503 (unavailable) and /readyz is 503; /healthz is 200 throughout. After
// begin_shutdown(), /readyz is 503 again while in-flight and late requests still work.
//
// Thread-safety: handle() may run on any number of threads at once; set_database() and
// begin_shutdown() may race with it.
#pragma once

#include <atomic>
#include <string>

#include "api/http_types.h"
#include "engine/database.h"

namespace quiver::api {

struct BuildInfo {
  std::string version;  // "0.1.0"
  std::string git_sha;  // short sha or "unknown"
};

// The version and git sha baked in at build time.
BuildInfo build_info();

// The OpenAPI 3.1 document embedded at build time (api/openapi.json).
std::string_view openapi_document();

class Api {
 public:
  Api() = default;
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Publishes the database. Not owned: it must outlive every handle() call that can see
  // it, i.e. the owner destroys it only after the server has stopped its workers.
  void set_database(engine::Database* db) { db_.store(db, std::memory_order_release); }
  void begin_shutdown() { shutting_down_.store(true, std::memory_order_release); }
  bool ready() const {
    return db_.load(std::memory_order_acquire) != nullptr &&
           !shutting_down_.load(std::memory_order_acquire);
  }

  // Never throws; failures become problem+json responses.
  HttpResponse handle(const HttpRequest& request) const;

 private:
  std::atomic<engine::Database*> db_{nullptr};
  std::atomic<bool> shutting_down_{false};
};

}  // namespace quiver::api
