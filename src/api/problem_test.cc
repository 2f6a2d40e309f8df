#include "api/problem.h"

#include <gtest/gtest.h>

#include "api/json_reader.h"

namespace quiver::api {
namespace {

TEST(Problem, StatusMapping) {
  const std::pair<StatusCode, int> cases[] = {
      {StatusCode::kMalformed, 400},          {StatusCode::kInvalidArgument, 422},
      {StatusCode::kNotFound, 404},           {StatusCode::kAlreadyExists, 409},
      {StatusCode::kConflict, 409},           {StatusCode::kPreconditionFailed, 412},
      {StatusCode::kResourceExhausted, 429},  {StatusCode::kUnavailable, 503},
      {StatusCode::kStorageFull, 507},        {StatusCode::kUpstreamError, 502},
      {StatusCode::kUpstreamTimeout, 504},    {StatusCode::kIOError, 500},
      {StatusCode::kCorruption, 500},         {StatusCode::kInternal, 500},
  };
  for (auto [code, http] : cases) {
    EXPECT_EQ(http_status_for(code), http) << static_cast<int>(code);
    HttpResponse r = problem_response(Status(code, "m"));
    EXPECT_EQ(r.status, http);
    EXPECT_EQ(r.content_type, "application/problem+json");
  }
}

TEST(Problem, BodyShape) {
  HttpResponse r = problem_response(
      Status::invalid("bad", {{"chunks[3].embedding", "expected 768 numbers, got 767"}}));
  auto doc = parse_json(r.body);
  ASSERT_TRUE(doc.is_ok()) << r.body;
  std::string_view type, title, detail, field;
  int64_t status = 0;
  ASSERT_EQ((*doc)["type"].get(type), simdjson::SUCCESS);
  ASSERT_EQ((*doc)["title"].get(title), simdjson::SUCCESS);
  ASSERT_EQ((*doc)["status"].get(status), simdjson::SUCCESS);
  ASSERT_EQ((*doc)["detail"].get(detail), simdjson::SUCCESS);
  ASSERT_EQ((*doc)["errors"].at(0)["field"].get(field), simdjson::SUCCESS);
  EXPECT_EQ(type, "urn:quiver:problem:invalid_argument");
  EXPECT_EQ(title, "Unprocessable Content");
  EXPECT_EQ(status, 422);
  EXPECT_EQ(detail, "bad");
  EXPECT_EQ(field, "chunks[3].embedding");
}

TEST(Problem, InternalErrorsDoNotLeak) {
  HttpResponse r = problem_response(Status::io_error("rocksdb: /secret/path/000012.sst corrupt"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_NE(r.body.find("urn:quiver:problem:internal"), std::string::npos);
  EXPECT_NE(r.body.find("\"errors\":[]"), std::string::npos);
}

}  // namespace
}  // namespace quiver::api
