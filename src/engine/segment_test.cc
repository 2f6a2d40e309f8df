#include "engine/segment.h"
#include "engine/sealed_segment.h"
#include "engine/segment_manifest.h"

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

TEST(SealedSegment, ContiguousRowsAndVersionedDeletes) {
  SealedSegment seg(3, 4);
  const float a[3] = {1, 2, 3};
  for (uint32_t r = 0; r < 3; ++r) seg.fill_row(r, a, 1.5f, "c" + std::to_string(r));
  seg.fill_missing(3, "gone");
  const auto v = seg.view();
  EXPECT_EQ(v.rows, 4u);
  EXPECT_EQ(v.row(2), seg.row(2));
  EXPECT_EQ(seg.row(1) - seg.row(0), 3);  // one allocation, rows adjacent
  EXPECT_EQ(seg.row(1)[2], 3.0f);
  EXPECT_EQ(seg.chunk_id(1), "c1");
  EXPECT_TRUE(seg.is_deleted(3, 0));  // a missing row is deleted for every snapshot
  EXPECT_FALSE(seg.is_deleted(0, 100));
  seg.mark_deleted(0, 7);
  EXPECT_FALSE(seg.is_deleted(0, 6));
  EXPECT_TRUE(seg.is_deleted(0, 7));
  EXPECT_EQ(seg.deleted_at(0), 7u);
  EXPECT_EQ(seg.deleted_at(1), SealedSegment::kLive);
}

TEST(SegmentManifest, RoundTripAndCorruption) {
  manifest::SegmentManifest m;
  m.index = {"hnsw", {{"m", 16}, {"seed", -3}}};
  m.chunk_ids = {"a", "bb", ""};
  m.hashes = {1, UINT64_MAX, 42};
  const std::string bytes = manifest::encode(m);
  manifest::SegmentManifest d;
  ASSERT_TRUE(manifest::decode(bytes, d).is_ok());
  EXPECT_EQ(d.index, m.index);
  EXPECT_EQ(d.chunk_ids, m.chunk_ids);
  EXPECT_EQ(d.hashes, m.hashes);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(manifest::decode(bytes.substr(0, n), d).is_ok()) << n;  // every truncation
  }
  EXPECT_FALSE(manifest::decode(bytes + "x", d).is_ok());

  const std::string k = manifest::key("lib", 258);
  std::string_view lib;
  uint64_t id = 0;
  ASSERT_TRUE(manifest::parse_key(k, lib, id));
  EXPECT_EQ(lib, "lib");
  EXPECT_EQ(id, 258u);
  EXPECT_EQ(k.substr(0, manifest::library_prefix("lib").size()), manifest::library_prefix("lib"));
  EXPECT_FALSE(manifest::parse_key("segments", lib, id));

  const float x[2] = {1.0f, 2.0f}, y[2] = {1.0f, 2.5f};
  EXPECT_EQ(manifest::embedding_hash(x, 8), manifest::embedding_hash(x, 8));
  EXPECT_NE(manifest::embedding_hash(x, 8), manifest::embedding_hash(y, 8));
}

}  // namespace
}  // namespace quiver::engine
