#include "api/json_writer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

namespace quiver::api {
namespace {

TEST(JsonWriter, ObjectsArraysAndCommas) {
  JsonWriter w;
  w.begin_object();
  w.key("a");
  w.int64(-3);
  w.key("b");
  w.begin_array();
  w.uint64(1);
  w.boolean(true);
  w.null();
  w.begin_object();
  w.end_object();
  w.end_array();
  w.key("c");
  w.string("x");
  w.end_object();
  EXPECT_EQ(w.str(), R"({"a":-3,"b":[1,true,null,{}],"c":"x"})");
}

TEST(JsonWriter, EscapesQuotesBackslashAndControlCharacters) {
  std::string s = "q\"b\\n\nt\tr\rb\bf\f";
  s.push_back('\x01');
  s.push_back('\x1f');
  JsonWriter w;
  w.string(s);
  EXPECT_EQ(w.str(), R"("q\"b\\n\nt\tr\rb\bf\f\u0001\u001f")");
}

TEST(JsonWriter, KeepsUtf8BytesAsIs) {
  JsonWriter w;
  w.string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(w.str(), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonWriter, Float32IsShortestRoundTrip) {
  JsonWriter w;
  w.begin_array();
  w.float32(0.1f);
  w.float32(-2.5f);
  w.float32(1.0f);
  w.float32(3.4028235e38f);
  w.end_array();
  EXPECT_EQ(w.str(), "[0.1,-2.5,1,3.4028235e+38]");
}

TEST(JsonWriter, Float32RoundTripsRandomValues) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 20000; ++i) {
    uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, sizeof f);
    if (!std::isfinite(f)) continue;
    JsonWriter w;
    w.float32(f);
    float back = std::strtof(w.str().c_str(), nullptr);
    ASSERT_EQ(std::memcmp(&back, &f, sizeof f), 0) << w.str();
  }
}

TEST(JsonWriter, NonFiniteBecomesNull) {
  JsonWriter w;
  w.begin_array();
  w.float32(std::nanf(""));
  w.float64(INFINITY);
  w.end_array();
  EXPECT_EQ(w.str(), "[null,null]");
}

TEST(JsonWriter, Float64AlwaysLooksLikeADouble) {
  JsonWriter w;
  w.begin_array();
  w.float64(2.0);
  w.float64(0.5);
  w.float64(1e300);
  w.end_array();
  EXPECT_EQ(w.str(), "[2.0,0.5,1e+300]");
}

}  // namespace
}  // namespace quiver::api
