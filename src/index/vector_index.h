// VectorIndex: the one interface every index algorithm implements.
//
// An index is built once over an immutable VectorView (a sealed segment's rows) and then
// only searched, so it needs no locks: any number of threads may call search() at once.
// Rebuilding is the engine's job (a new index over a new segment, swapped in by snapshot).
//
// Registered by name ("flat", "kdtree", "hnsw", "ivf") in index/registry.h, with typed,
// validated params; each type owns its serialiser (save/load to a checksummed file).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "index/metric.h"
#include "index/row_filter.h"
#include "index/top_k.h"

namespace quiver::index {

// A read-only view of `rows` contiguous vectors of `dim` floats (row-major), and for
// kCosine their Euclidean norms (`rows` floats; may be null for other metrics).
// The view does not own the memory; its owner must outlive every index built on it.
struct VectorView {
  const float* data = nullptr;
  const float* norms = nullptr;
  uint32_t rows = 0;
  uint32_t dim = 0;
  const float* row(uint32_t r) const { return data + static_cast<std::size_t>(r) * dim; }
};

// Per-query knobs; an index ignores the ones that are not its own.
struct SearchParams {
  std::optional<uint32_t> ef;      // hnsw: candidate list size (>= k)
  std::optional<uint32_t> nprobe;  // ivf: lists probed
};

// A query: the vector and its precomputed norm (used by kCosine).
struct Query {
  const float* vector = nullptr;
  float norm = 0.0f;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual std::string_view type() const = 0;
  virtual Metric metric() const = 0;
  virtual uint32_t rows() const = 0;

  // Adds the k nearest rows that `filter` allows (all rows when filter is null) to `out`.
  // Exact indexes add the true k nearest; approximate ones their best effort.
  virtual void search(const Query& query, const SearchParams& params, const RowFilter* filter,
                      TopK& out) const = 0;

  // Bytes of memory held by the index structure itself, excluding the VectorView.
  virtual std::size_t memory_bytes() const = 0;

  // Writes the index structure (not the vectors) to `path` in its versioned, checksummed
  // format; the file is complete or absent (written to a temp file, fsynced, renamed).
  virtual Status save(const std::string& path) const = 0;
};

}  // namespace quiver::index
