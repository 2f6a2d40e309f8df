#include "api/router.h"

namespace quiver::api {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segs;
  if (path.empty() || path.front() != '/') return segs;
  std::size_t pos = 1;
  while (true) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) {
      segs.push_back(path.substr(pos));
      break;
    }
    segs.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return segs;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const std::vector<Route>& route_table() {
  static const std::vector<Route> kRoutes = {
      {RouteId::kHealthz, "/healthz", {"GET"}},
      {RouteId::kReadyz, "/readyz", {"GET"}},
      {RouteId::kVersion, "/version", {"GET"}},
      {RouteId::kOpenApi, "/openapi.json", {"GET"}},
      {RouteId::kLibraries, "/v1/libraries", {"GET", "POST"}},
      {RouteId::kLibrary, "/v1/libraries/{library_id}", {"GET", "PATCH", "DELETE"}},
      {RouteId::kDocuments, "/v1/libraries/{library_id}/documents", {"GET", "POST"}},
      {RouteId::kDocument,
       "/v1/libraries/{library_id}/documents/{document_id}",
       {"GET", "PATCH", "DELETE"}},
      {RouteId::kDocumentChunks,
       "/v1/libraries/{library_id}/documents/{document_id}/chunks",
       {"GET", "POST"}},
      {RouteId::kChunk, "/v1/libraries/{library_id}/chunks/{chunk_id}", {"GET", "PATCH", "DELETE"}},
      {RouteId::kSearch, "/v1/libraries/{library_id}/search", {"POST"}},
      {RouteId::kIndex, "/v1/libraries/{library_id}/index", {"GET", "POST"}},
  };
  return kRoutes;
}

bool percent_decode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

RouteMatch match_route(std::string_view method, std::string_view path) {
  RouteMatch result;
  const std::vector<std::string_view> segs = split_path(path);
  for (const Route& route : route_table()) {
    const std::vector<std::string_view> pat = split_path(route.pattern);
    if (pat.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool matched = true;
    bool bad_escape = false;
    for (std::size_t i = 0; i < pat.size() && matched; ++i) {
      if (pat[i].size() > 2 && pat[i].front() == '{') {
        // A capture must be non-empty: "/v1/libraries//documents" is not a route.
        if (segs[i].empty()) {
          matched = false;
          break;
        }
        std::string decoded;
        if (!percent_decode(segs[i], false, &decoded)) bad_escape = true;
        params[std::string(pat[i].substr(1, pat[i].size() - 2))] = std::move(decoded);
      } else if (pat[i] != segs[i]) {
        matched = false;
      }
    }
    if (!matched) continue;
    result.route = &route;
    if (bad_escape) {
      result.outcome = RouteMatch::Outcome::kBadPath;
      return result;
    }
    for (std::string_view m : route.methods) {
      if (m == method) {
        result.outcome = RouteMatch::Outcome::kFound;
        result.params = std::move(params);
        return result;
      }
    }
    result.outcome = RouteMatch::Outcome::kMethodNotAllowed;
    for (std::string_view m : route.methods) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += m;
    }
    return result;
  }
  return result;
}

bool parse_target(std::string_view target, Target* out) {
  out->query.clear();
  std::size_t q = target.find('?');
  out->path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string name, value;
    if (!percent_decode(pair.substr(0, eq), true, &name)) return false;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), true, &value)) {
      return false;
    }
    out->query.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

}  // namespace quiver::api
