// Internal to the KD-tree (src/index/kdtree.cc): its node layout and its on-disk format.
//
// File format (inside the checksummed container of index/index_file.h), little-endian:
//   u32 format version (1), u32 metric, u32 rows, u32 dim,
//   u32 node count, nodes (u32 begin, end, left, right, split_dim; f32 split),
//   u32 order count, order (u32 rows in leaf order; a permutation of [0, rows)).
// load_tree validates every field so a damaged file yields kCorruption, never a crash.
//
// Thread-safety: plain data and free functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "index/vector_index.h"

namespace quiver::index::kdtree {

// A node of the tree. Leaves have left == right == 0 (the root is nobody's child) and own
// order[begin, end). Internal nodes: rows with coordinate split_dim <= split are in left
// (which owns order[begin, mid)), rows >= split in right; children come after the parent.
struct Node {
  uint32_t begin;
  uint32_t end;
  uint32_t left;
  uint32_t right;
  uint32_t split_dim;
  float split;
};

struct TreeData {
  std::vector<Node> nodes;      // pre-order; empty for dot (exact scan) and rows == 0
  std::vector<uint32_t> order;  // rows in leaf order
};

// Writes `data` to `path` (complete or absent).
Status save_tree(const std::string& path, Metric metric, const VectorView& view,
                 const TreeData& data);

// Reads and validates a file written by save_tree for the same metric and view.
Result<TreeData> load_tree(const std::string& path, Metric metric, const VectorView& view);

}  // namespace quiver::index::kdtree
