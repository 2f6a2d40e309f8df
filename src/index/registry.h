// Index types registered by name, with typed, validated parameters.
//
//   flat   : exact scan; no params
//   kdtree : leaf_size (default 32)
//   hnsw   : m (16), ef_construction (200), ef_search (64), seed (42)
//   ivf    : nlist (0 = sqrt(rows)), nprobe (8), iterations (20), seed (42)
//
// Thread-safety: the registry is immutable after static initialisation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "index/vector_index.h"

namespace quiver::index {

struct IndexConfig {
  std::string type;                       // "flat", "kdtree", "hnsw", "ivf"
  std::map<std::string, int64_t> params;  // after normalize_index_config: every knob, defaults filled
  bool operator==(const IndexConfig&) const = default;
};

// The server's default index for new libraries.
IndexConfig default_index_config();

// Names of the registered types, in a stable order.
std::vector<std::string_view> index_types();

// Validates `in` (known type, known params, each in range) and fills in defaults.
// Field errors are named under `field_prefix` ("index" -> "index.type", "index.params.m").
Result<IndexConfig> normalize_index_config(const IndexConfig& in, std::string_view field_prefix);

// Validates per-query params against the range the API allows (`ef` 1..10000,
// `nprobe` 1..65536); field errors under `field_prefix` ("params" -> "params.ef").
Status validate_search_params(const SearchParams& p, std::string_view field_prefix);

struct BuildOptions {
  unsigned threads = 1;                          // worker threads the build may use
  const std::atomic<bool>* cancel = nullptr;     // when set and true, the build stops early
  std::atomic<uint64_t>* progress = nullptr;     // rows processed so far, for index_status
};

// Builds an index of `config` (normalized) over `view`. Returns kUnavailable when cancelled.
Result<std::unique_ptr<VectorIndex>> build_index(const IndexConfig& config, Metric metric,
                                                 VectorView view, const BuildOptions& options);

// Loads an index saved by VectorIndex::save() over the same rows. Returns kCorruption when
// the file is damaged, truncated, of another version, or does not match `view`.
Result<std::unique_ptr<VectorIndex>> load_index(const IndexConfig& config, Metric metric,
                                                VectorView view, const std::string& path);

}  // namespace quiver::index
