// The OpenAPI document must describe exactly the routes the router serves.
#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "api/api.h"
#include "api/router.h"

namespace quiver::api {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    text_ = std::string(openapi_document());
    ASSERT_EQ(parser_.parse(text_).get(root_), simdjson::SUCCESS);
  }
  std::string text_;
  simdjson::dom::parser parser_;
  element root_;
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_http_method(std::string_view key) {
  static const std::set<std::string_view> kMethods = {"get", "put", "post", "delete",
                                                      "options", "head", "patch", "trace"};
  return kMethods.count(key) != 0;
}

TEST_F(OpenApiTest, IsOpenApi31) {
  std::string_view version;
  ASSERT_EQ(root_["openapi"].get(version), simdjson::SUCCESS);
  EXPECT_EQ(version, "3.1.0");
}

TEST_F(OpenApiTest, DocumentAndRouterAgreeOnEveryPathAndMethod) {
  std::set<std::string> from_router, from_doc;
  for (const Route& r : route_table()) {
    for (std::string_view m : r.methods) from_router.insert(upper(m) + " " + std::string(r.pattern));
  }
  object paths;
  ASSERT_EQ(root_["paths"].get(paths), simdjson::SUCCESS);
  for (auto path : paths) {
    object ops;
    ASSERT_EQ(path.value.get(ops), simdjson::SUCCESS);
    for (auto op : ops) {
      if (is_http_method(op.key)) from_doc.insert(upper(op.key) + " " + std::string(path.key));
    }
  }
  std::vector<std::string> only_router, only_doc;
  std::set_difference(from_router.begin(), from_router.end(), from_doc.begin(), from_doc.end(),
                      std::back_inserter(only_router));
  std::set_difference(from_doc.begin(), from_doc.end(), from_router.begin(), from_router.end(),
                      std::back_inserter(only_doc));
  EXPECT_TRUE(only_router.empty()) << "routes missing from openapi.json: "
                                   << ::testing::PrintToString(only_router);
  EXPECT_TRUE(only_doc.empty()) << "documented but not routed: "
                                << ::testing::PrintToString(only_doc);
}

// Collects every "$ref" string in the document.
void collect_refs(element e, std::vector<std::string>* out) {
  if (e.is_object()) {
    const object obj = e.get_object().value_unsafe();
    for (auto f : obj) {
      std::string_view s;
      if (f.key == "$ref" && f.value.get(s) == simdjson::SUCCESS) out->emplace_back(s);
      collect_refs(f.value, out);
    }
  } else if (e.is_array()) {
    const simdjson::dom::array arr = e.get_array().value_unsafe();
    for (element x : arr) collect_refs(x, out);
  }
}

TEST_F(OpenApiTest, EveryRefResolves) {
  std::vector<std::string> refs;
  collect_refs(root_, &refs);
  ASSERT_FALSE(refs.empty());
  for (const std::string& ref : refs) {
    ASSERT_EQ(ref.rfind("#/", 0), 0u) << ref;
    element target;
    EXPECT_EQ(root_.at_pointer(ref.substr(1)).get(target), simdjson::SUCCESS) << ref;
  }
}

TEST_F(OpenApiTest, RequestBodiesRejectUnknownFieldsAndErrorsAreProblems) {
  object paths;
  ASSERT_EQ(root_["paths"].get(paths), simdjson::SUCCESS);
  for (auto path : paths) {
    const bool v1 = path.key.rfind("/v1/", 0) == 0;
    const object ops = path.value.get_object().value_unsafe();
    for (auto op : ops) {
      if (!is_http_method(op.key)) continue;
      const std::string where = upper(op.key) + " " + std::string(path.key);
      std::string_view ref;
      if (op.value.at_pointer("/requestBody/content/application~1json/schema/$ref").get(ref) ==
          simdjson::SUCCESS) {
        bool addl = true;
        ASSERT_EQ(root_.at_pointer(std::string(ref.substr(1)) + "/additionalProperties").get(addl),
                  simdjson::SUCCESS)
            << where;
        EXPECT_FALSE(addl) << where;
      }
      object responses;
      ASSERT_EQ(op.value["responses"].get(responses), simdjson::SUCCESS) << where;
      bool has_success = false;
      for (auto r : responses) {
        if (r.key[0] == '2') has_success = true;
        if (r.key[0] == '4' || r.key[0] == '5') {
          std::string_view rref;
          ASSERT_EQ(r.value["$ref"].get(rref), simdjson::SUCCESS) << where << " " << r.key;
          EXPECT_EQ(root_.at_pointer(std::string(rref.substr(1)) +
                                     "/content/application~1problem+json/schema/$ref")
                        .error(),
                    simdjson::SUCCESS)
              << where << " " << r.key;
        }
      }
      EXPECT_TRUE(has_success) << where;
      if (v1) {
        EXPECT_EQ(responses["503"].error(), simdjson::SUCCESS) << where;
        EXPECT_EQ(responses["500"].error(), simdjson::SUCCESS) << where;
      }
    }
  }
}

TEST_F(OpenApiTest, NoMetricsYet) { EXPECT_EQ(text_.find("/metrics"), std::string::npos); }

}  // namespace
}  // namespace quiver::api
