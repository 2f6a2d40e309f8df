#include "index/top_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace quiver::index {
namespace {

// Brute force: everything at or below the k-th smallest distance, sorted by (distance, row).
std::vector<Neighbor> expected_top(std::vector<Neighbor> all, std::size_t k) {
  std::sort(all.begin(), all.end(), [](const Neighbor& a, const Neighbor& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.row < b.row);
  });
  if (k == 0) return {};
  if (all.size() <= k) return all;
  const float kth = all[k - 1].distance;
  std::vector<Neighbor> out;
  for (const Neighbor& n : all) {
    if (n.distance <= kth) out.push_back(n);
  }
  return out;
}

void expect_same(const std::vector<Neighbor>& got, const std::vector<Neighbor>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].distance, want[i].distance) << i;
    EXPECT_EQ(got[i].row, want[i].row) << i;
  }
}

TEST(TopKTest, MatchesBruteForceWithManyTies) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = rng() % 200;
    const std::size_t k = rng() % 20;
    // Few distinct values so that ties with the k-th distance are common.
    const unsigned levels = 1 + rng() % 12;
    std::vector<Neighbor> all;
    TopK top(k);
    std::vector<uint32_t> rows(n);
    for (std::size_t i = 0; i < n; ++i) rows[i] = static_cast<uint32_t>(i);
    std::shuffle(rows.begin(), rows.end(), rng);
    for (uint32_t row : rows) {
      const float d = static_cast<float>(rng() % levels) * 0.5f;
      all.push_back({d, row});
      top.push(d, row);
    }
    EXPECT_EQ(top.k(), k);
    expect_same(top.take_sorted(), expected_top(all, k));
    EXPECT_TRUE(top.take_sorted().empty());  // take_sorted leaves it empty
  }
}

TEST(TopKTest, DistinctDistancesGiveExactlyK) {
  TopK top(3);
  for (uint32_t r = 0; r < 10; ++r) top.push(static_cast<float>(10 - r), r);
  auto got = top.take_sorted();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].row, 9u);
  EXPECT_EQ(got[1].row, 8u);
  EXPECT_EQ(got[2].row, 7u);
}

TEST(TopKTest, ThresholdAndTiesAreDroppedWhenBeaten) {
  TopK top(2);
  EXPECT_TRUE(std::isinf(top.threshold()));
  top.push(5, 0);
  EXPECT_TRUE(std::isinf(top.threshold()));
  top.push(5, 1);
  EXPECT_EQ(top.threshold(), 5.0f);
  top.push(5, 2);  // tie: kept
  top.push(5, 3);  // tie: kept
  top.push(6, 4);  // worse: dropped
  top.push(1, 5);  // k-th is still 5: every 5 still ties
  EXPECT_EQ(top.threshold(), 5.0f);
  top.push(2, 6);  // k-th becomes 2: all the 5s go
  EXPECT_EQ(top.threshold(), 2.0f);
  auto got = top.take_sorted();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].row, 5u);
  EXPECT_EQ(got[1].row, 6u);
}

TEST(TopKTest, ZeroKAndNaN) {
  TopK zero(0);
  EXPECT_TRUE(std::isinf(zero.threshold()));
  zero.push(1, 1);
  EXPECT_TRUE(zero.take_sorted().empty());
  TopK top(2);
  top.push(std::nanf(""), 1);
  top.push(3, 2);
  auto got = top.take_sorted();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].row, 2u);
}

}  // namespace
}  // namespace quiver::index
