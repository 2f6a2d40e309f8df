#include "api/router.h"

#include <set>

#include <gtest/gtest.h>

namespace quiver::api {
namespace {

using Outcome = RouteMatch::Outcome;

TEST(Router, MatchesEveryRouteWithParams) {
  auto m = match_route("GET", "/v1/libraries/lib1/documents/doc%2F2/chunks");
  ASSERT_EQ(m.outcome, Outcome::kFound);
  EXPECT_EQ(m.route->id, RouteId::kDocumentChunks);
  EXPECT_EQ(m.params.at("library_id"), "lib1");
  EXPECT_EQ(m.params.at("document_id"), "doc/2");

  EXPECT_EQ(match_route("GET", "/v1/libraries").route->id, RouteId::kLibraries);
  EXPECT_EQ(match_route("PATCH", "/v1/libraries/x").route->id, RouteId::kLibrary);
  EXPECT_EQ(match_route("DELETE", "/v1/libraries/x/chunks/c").route->id, RouteId::kChunk);
  EXPECT_EQ(match_route("POST", "/v1/libraries/x/search").route->id, RouteId::kSearch);
  EXPECT_EQ(match_route("POST", "/v1/libraries/x/index").route->id, RouteId::kIndex);
  EXPECT_EQ(match_route("GET", "/healthz").route->id, RouteId::kHealthz);
  EXPECT_EQ(match_route("GET", "/openapi.json").route->id, RouteId::kOpenApi);
}

TEST(Router, NotFound) {
  for (const char* p : {"/", "/v1", "/v1/libraries/", "/v1/libraries//documents", "/metrics",
                        "/v1/libraries/x/unknown", "/v1/libraries/x/documents/y/chunks/z", ""}) {
    EXPECT_EQ(match_route("GET", p).outcome, Outcome::kNotFound) << p;
  }
}

TEST(Router, MethodNotAllowedListsAllow) {
  auto m = match_route("PUT", "/v1/libraries/x");
  EXPECT_EQ(m.outcome, Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, PATCH, DELETE");
  EXPECT_EQ(match_route("GET", "/v1/libraries/x/search").allow, "POST");
  EXPECT_EQ(match_route("DELETE", "/v1/libraries").allow, "GET, POST");
}

TEST(Router, BadPercentEscape) {
  EXPECT_EQ(match_route("GET", "/v1/libraries/a%zz").outcome, Outcome::kBadPath);
  EXPECT_EQ(match_route("GET", "/v1/libraries/a%2").outcome, Outcome::kBadPath);
}

TEST(PercentDecode, Cases) {
  std::string out;
  ASSERT_TRUE(percent_decode("a%20b+c%C3%A9", false, &out));
  EXPECT_EQ(out, "a b+c\xc3\xa9");
  ASSERT_TRUE(percent_decode("a+b", true, &out));
  EXPECT_EQ(out, "a b");
  EXPECT_FALSE(percent_decode("%", false, &out));
  EXPECT_FALSE(percent_decode("%4", false, &out));
  EXPECT_FALSE(percent_decode("%g0", false, &out));
}

TEST(ParseTarget, SplitsQuery) {
  Target t;
  ASSERT_TRUE(parse_target("/v1/libraries?limit=5&cursor=a%3Db&flag&=x", &t));
  EXPECT_EQ(t.path, "/v1/libraries");
  ASSERT_EQ(t.query.size(), 4u);
  EXPECT_EQ(t.query[0], (std::pair<std::string, std::string>{"limit", "5"}));
  EXPECT_EQ(t.query[1], (std::pair<std::string, std::string>{"cursor", "a=b"}));
  EXPECT_EQ(t.query[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_FALSE(parse_target("/x?a=%zz", &t));
}

TEST(RouteTable, NoMetricsAndUniquePatterns) {
  std::set<std::string_view> seen;
  for (const Route& r : route_table()) {
    EXPECT_TRUE(seen.insert(r.pattern).second) << r.pattern;
    EXPECT_EQ(r.pattern.find("metrics"), std::string_view::npos);
  }
}

}  // namespace
}  // namespace quiver::api
