// The route table: the single source of truth for dispatch, 404 and 405 (+ Allow), and the
// list the OpenAPI test compares against.
//
// Paths are matched segment by segment on the raw (still percent-encoded) path, so an
// encoded '/' (%2F) inside an id never splits a segment; captured segments are then
// percent-decoded.
//
// Thread-safety: the table is immutable; all functions are pure.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quiver::api {

enum class RouteId {
  kHealthz,
  kReadyz,
  kVersion,
  kOpenApi,
  kLibraries,       // /v1/libraries
  kLibrary,         // /v1/libraries/{library_id}
  kDocuments,       // /v1/libraries/{library_id}/documents
  kDocument,        // /v1/libraries/{library_id}/documents/{document_id}
  kDocumentChunks,  // /v1/libraries/{library_id}/documents/{document_id}/chunks
  kChunk,           // /v1/libraries/{library_id}/chunks/{chunk_id}
  kSearch,          // /v1/libraries/{library_id}/search
  kIndex,           // /v1/libraries/{library_id}/index
};

struct Route {
  RouteId id;
  std::string_view pattern;                // "/v1/libraries/{library_id}"
  std::vector<std::string_view> methods;   // upper case, in Allow-header order
};

const std::vector<Route>& route_table();

struct RouteMatch {
  enum class Outcome { kFound, kNotFound, kMethodNotAllowed, kBadPath };
  Outcome outcome = Outcome::kNotFound;
  const Route* route = nullptr;                 // set for kFound and kMethodNotAllowed
  std::map<std::string, std::string> params;    // decoded {name} captures (kFound)
  std::string allow;                            // "GET, POST" (kMethodNotAllowed)
};

// Matches `path` (no query string) and `method` against the table. kBadPath: a captured
// segment holds an invalid percent-escape.
RouteMatch match_route(std::string_view method, std::string_view path);

// Percent-decodes `in` into `out`; with `plus_is_space` (query strings) '+' becomes ' '.
// Returns false on a malformed escape ("%G1", "%2").
bool percent_decode(std::string_view in, bool plus_is_space, std::string* out);

struct Target {
  std::string path;                                         // raw path
  std::vector<std::pair<std::string, std::string>> query;   // decoded name=value pairs
};

// Splits an origin-form target into path and decoded query parameters. Returns false when
// a query parameter holds a malformed escape.
bool parse_target(std::string_view target, Target* out);

}  // namespace quiver::api
