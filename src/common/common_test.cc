#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "common/crc32c.h"
#include "common/ids.h"
#include "common/status.h"
#include "common/time.h"

namespace quiver {
namespace {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 B.4 test vectors.
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  unsigned char zeros[32] = {0};
  EXPECT_EQ(crc32c(zeros, 32), 0x8A9136AAu);
  unsigned char ones[32];
  std::memset(ones, 0xFF, 32);
  EXPECT_EQ(crc32c(ones, 32), 0x62A8AB43u);
  // Extending in pieces equals one pass.
  EXPECT_EQ(crc32c_extend(crc32c("1234", 4), "56789", 5), crc32c("123456789", 9));
}

TEST(Time, Rfc3339Milliseconds) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(1795468039123), "2026-11-23T21:07:19.123Z");
}

TEST(Ids, UuidV4ShapeAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = new_uuid_v4();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
    EXPECT_TRUE(is_valid_id(u));
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ids, Syntax) {
  EXPECT_TRUE(is_valid_id("doc:1.a_b-c"));
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id(std::string(129, 'a')));
  EXPECT_TRUE(is_valid_id(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_id("a b"));
  EXPECT_FALSE(is_valid_id("a/b"));
  EXPECT_TRUE(is_valid_library_name("my-lib_1.0"));
  EXPECT_FALSE(is_valid_library_name("my:lib"));
}

TEST(Status, ResultCarriesValueOrError) {
  Result<int> ok = 3;
  EXPECT_TRUE(ok.is_ok());
  EXPECT_EQ(*ok, 3);
  Result<int> bad = Status::invalid_field("k", "must be at least 1");
  EXPECT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(bad.status().field_errors().size(), 1u);
  EXPECT_EQ(bad.status().field_errors()[0].field, "k");
}

}  // namespace
}  // namespace quiver
