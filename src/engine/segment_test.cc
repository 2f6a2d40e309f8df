#include "engine/segment.h"

// GCC 12 -O3 false -Wrestrict on `"lit" + std::to_string(n)` (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace quiver::engine {
namespace {

TEST(AppendableSegment, RowsAcrossBlocksKeepTheirValuesAndAddresses) {
  AppendableSegment seg(3, 8);
  const uint32_t br = seg.block_rows();
  EXPECT_EQ(br, 1024u);
  EXPECT_EQ(seg.capacity(), 8 * br);
  std::vector<const float*> addresses;
  const uint32_t n = 2 * br + 5;
  for (uint32_t i = 0; i < n; ++i) {
    const float v[3] = {float(i), 0, 0};
    ASSERT_EQ(seg.append(v, "c" + std::to_string(i)), i);
    addresses.push_back(seg.row(i));
  }
  // Appending never moved an earlier row.
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(seg.row(i), addresses[i]);
    EXPECT_EQ(seg.row(i)[0], float(i));
    EXPECT_EQ(seg.chunk_id(i), "c" + std::to_string(i));
    EXPECT_FLOAT_EQ(seg.norm(i), float(i));
  }
  // A view is contiguous within a block.
  auto view = seg.view(br, br);
  EXPECT_EQ(view.rows, br);
  EXPECT_EQ(view.row(7)[0], float(br + 7));
  EXPECT_EQ(view.norms[7], float(br + 7));
}

TEST(AppendableSegment, DeletionIsVersioned) {
  AppendableSegment seg(2, 1);
  const float v[2] = {1, 2};
  seg.append(v, "a");
  EXPECT_FALSE(seg.is_deleted(0, 100));
  seg.mark_deleted(0, 5);
  EXPECT_FALSE(seg.is_deleted(0, 4));  // an older snapshot still sees the row
  EXPECT_TRUE(seg.is_deleted(0, 5));
  EXPECT_TRUE(seg.is_deleted(0, 6));
}

TEST(AppendableSegment, WideVectorsUseSmallerBlocks) {
  AppendableSegment wide(16384, 4);
  EXPECT_EQ(wide.block_rows(), 64u);  // 64 x 16384 floats = 4 MiB
  AppendableSegment mid(2048, 4);
  EXPECT_EQ(mid.block_rows(), 512u);
  std::vector<float> v(16384, 1.0f);
  for (int i = 0; i < 70; ++i) wide.append(v.data(), "x");
  EXPECT_EQ(wide.size(), 70u);
  EXPECT_FLOAT_EQ(wide.norm(69), 128.0f);
  EXPECT_EQ(wide.view(64, 6).rows, 6u);
}

}  // namespace
}  // namespace quiver::engine
