#include <charconv>
#include <cctype>

#include "api/handlers.h"
#include "api/json_reader.h"

namespace quiver::api {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::string* query_param(const RequestContext& ctx, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : ctx.query) {
    if (k == name) found = &v;
  }
  return found;
}

Result<engine::PageRequest> parse_page(const RequestContext& ctx) {
  engine::PageRequest page;
  page.limit = engine::kDefaultPageLimit;
  if (const std::string* limit = query_param(ctx, "limit")) {
    int64_t v = 0;
    const char* end = limit->data() + limit->size();
    auto r = std::from_chars(limit->data(), end, v);
    if (limit->empty() || r.ec != std::errc() || r.ptr != end) {
      return Status::malformed("query parameter limit must be an integer",
                               {{"limit", "expected an integer"}});
    }
    if (v < 1 || v > engine::kMaxPageLimit) {
      return Status::invalid_field("limit", "must be between 1 and " +
                                                std::to_string(engine::kMaxPageLimit));
    }
    page.limit = static_cast<uint32_t>(v);
  }
  if (const std::string* cursor = query_param(ctx, "cursor")) page.cursor = *cursor;
  return page;
}

Result<engine::IfMatch> parse_if_match(const HttpRequest& request) {
  if (!request.has_if_match) return engine::IfMatch();
  std::string_view v = trim(request.if_match);
  if (v == "*") return engine::IfMatch();
  if (v.size() >= 2 && v[0] == 'W' && v[1] == '/') v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  uint64_t version = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), version);
  if (v.empty() || r.ec != std::errc() || r.ptr != v.data() + v.size()) {
    return Status::malformed("If-Match must be an entity tag such as \"3\"",
                             {{"If-Match", "expected an entity tag such as \"3\" or *"}});
  }
  return engine::IfMatch(version);
}

bool is_json_content_type(std::string_view content_type) {
  std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  constexpr std::string_view kJson = "application/json";
  if (media.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < media.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(media[i])) != kJson[i]) return false;
  }
  return true;
}

Result<simdjson::dom::element> json_body(const RequestContext& ctx) {
  return parse_json(ctx.request.body);
}

HttpResponse json_response(int status, JsonWriter&& w) {
  HttpResponse r;
  r.status = status;
  r.body = w.take();
  return r;
}

HttpResponse no_content() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

void set_etag(HttpResponse& r, uint64_t version) {
  // Appended piecewise: GCC 12 reports a false -Wrestrict on "\"" + std::string.
  std::string etag(1, '"');
  etag += std::to_string(version);
  etag.push_back('"');
  r.set_header("ETag", std::move(etag));
}

}  // namespace quiver::api
