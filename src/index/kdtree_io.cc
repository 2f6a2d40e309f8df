#include "index/kdtree_io.h"

#include <algorithm>

#include "index/index_file.h"

namespace quiver::index::kdtree {
namespace {

constexpr uint32_t kPayloadVersion = 1;
constexpr uint8_t kMaxDepth = 64;

IndexFileIdentity identity(Metric metric, const VectorView& view) {
  return IndexFileIdentity{"kdtree", metric, view.rows, view.dim};
}

Status corrupt(const std::string& why) { return Status::corruption("kdtree file: " + why); }

// The checksum already rejects random damage; these checks make a file that checksums but
// was produced by a bug (or crafted) unable to send search() out of bounds or into a loop.
Status validate(const TreeData& data, Metric metric, const VectorView& view) {
  const uint32_t rows = view.rows;
  // Dot is answered by a scan and an empty view has nothing to split: no tree in either.
  const bool expect_tree = metric != Metric::kDot && rows > 0;
  if (!expect_tree) {
    if (!data.nodes.empty() || !data.order.empty()) return corrupt("unexpected tree");
    return Status::ok();
  }
  if (data.nodes.empty()) return corrupt("missing tree");
  if (data.order.size() != rows) {
    return corrupt("order has " + std::to_string(data.order.size()) + " rows, expected " +
                   std::to_string(rows));
  }
  std::vector<bool> seen(rows, false);
  for (uint32_t r : data.order) {
    if (r >= rows || seen[r]) return corrupt("order is not a permutation of the rows");
    seen[r] = true;
  }
  const std::size_t n = data.nodes.size();
  // search() recurses once per level; the builder's depth is at most log2(rows) + 1.
  std::vector<uint8_t> depth(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const Node& node = data.nodes[i];
    if (node.begin > node.end || node.end > rows) return corrupt("node range out of bounds");
    const bool leaf = node.left == 0 && node.right == 0;
    if (leaf) continue;
    // Children strictly after the parent: no cycles, so search terminates.
    if (node.left <= i || node.right <= i || node.left >= n || node.right >= n) {
      return corrupt("node child out of order");
    }
    if (node.split_dim >= view.dim) return corrupt("split dimension out of range");
    const Node& l = data.nodes[node.left];
    const Node& r = data.nodes[node.right];
    if (l.begin != node.begin || l.end != r.begin || r.end != node.end) {
      return corrupt("children do not partition their parent");
    }
    if (depth[i] >= kMaxDepth) return corrupt("tree too deep");
    const auto next = static_cast<uint8_t>(depth[i] + 1);
    depth[node.left] = std::max(depth[node.left], next);  // max over every path (a DAG)
    depth[node.right] = std::max(depth[node.right], next);
  }
  if (n > 0 && (data.nodes[0].begin != 0 || data.nodes[0].end != rows)) {
    return corrupt("root does not cover every row");
  }
  return Status::ok();
}

}  // namespace

Status save_tree(const std::string& path, Metric metric, const VectorView& view,
                 const TreeData& data) {
  IndexFileWriter w(identity(metric, view));
  w.write<uint32_t>(kPayloadVersion);
  w.write_vector(data.nodes);
  w.write_vector(data.order);
  return w.commit(path);
}

Result<TreeData> load_tree(const std::string& path, Metric metric, const VectorView& view) {
  QUIVER_ASSIGN_OR_RETURN(IndexFileReader r, IndexFileReader::open(path, identity(metric, view)));
  uint32_t version = 0;
  QUIVER_RETURN_IF_ERROR(r.read(version));
  if (version != kPayloadVersion) return corrupt("unknown payload version");
  TreeData data;
  // A tree over n rows has fewer than 2n nodes (every leaf holds at least one row).
  QUIVER_RETURN_IF_ERROR(r.read_vector(data.nodes, 2ull * view.rows + 1));
  QUIVER_RETURN_IF_ERROR(r.read_vector(data.order, view.rows));
  QUIVER_RETURN_IF_ERROR(r.expect_end());
  QUIVER_RETURN_IF_ERROR(validate(data, metric, view));
  return data;
}

}  // namespace quiver::index::kdtree
