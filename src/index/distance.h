// Distance kernels, with one implementation per instruction set chosen once at run time.
//
// The binary is built for baseline x86-64; kernels for AVX2+FMA and AVX-512 live in their
// own translation units compiled with those flags, and `kernels()` picks the best one the
// CPU supports on first use (`QUIVER_SIMD=scalar|avx2|avx512` overrides, for tests and
// benchmarks). On other architectures only the portable kernels exist.
//
// Thread-safety: all functions are pure; `kernels()` is safe to call from any thread.
#pragma once

#include <cstddef>
#include <string_view>

#include "index/metric.h"

namespace quiver::index {

// Each kernel reads `dim` floats from each pointer. No alignment is required.
using DistanceFn = float (*)(const float* a, const float* b, std::size_t dim);

struct Kernels {
  std::string_view name;  // "scalar", "avx2", "avx512"
  DistanceFn l2_sq;       // sum (a_i - b_i)^2
  DistanceFn dot;         // sum a_i * b_i
};

// The kernels for this CPU (or the QUIVER_SIMD override), resolved once.
const Kernels& kernels();

// Kernels by name; nullptr if unknown or unsupported by this CPU. "scalar" always exists.
const Kernels* kernels_by_name(std::string_view name);

// The plain, in-order scalar loops: the reference the SIMD kernels are tested against.
float l2_sq_reference(const float* a, const float* b, std::size_t dim);
float dot_reference(const float* a, const float* b, std::size_t dim);

// Euclidean norm of one vector (used for stored cosine norms and query norms).
float norm(const float* a, std::size_t dim);

// The kernels `kernels()` would choose given the value of QUIVER_SIMD (`simd_override`, may
// be null or empty for "best supported"). An unknown or unsupported name falls back to the
// best supported kernels. Exposed so tests can check the selection without re-exec.
const Kernels& choose_kernels(const char* simd_override);

// --- The internal distance of metric.h, shared by every index -------------------------
// Split in two so that scan loops hoist the kernel out of the loop:
//   DistanceFn fn = metric_kernel(m, k);             // once per search
//   float d = finish_distance(m, fn(q, x, dim), ...) // per row
// kL2 -> l2_sq; kDot -> -dot; kCosine -> -dot / (|q| * |x|) with the STORED row norm (rows
// are never renormalised at query time). A zero norm gives cosine distance 0 (similarity 0).

// The raw kernel a metric needs: l2_sq for kL2, dot for kDot and kCosine.
inline DistanceFn metric_kernel(Metric m, const Kernels& k) {
  return m == Metric::kL2 ? k.l2_sq : k.dot;
}

// Turns the raw kernel value into the internal distance. `row_norm` and `query_norm` are
// only read for kCosine.
inline float finish_distance(Metric m, float raw, float query_norm, float row_norm) {
  switch (m) {
    case Metric::kL2:
      return raw;
    case Metric::kDot:
      return -raw;
    case Metric::kCosine: {
      const float denom = query_norm * row_norm;
      return denom > 0.0f ? -raw / denom : 0.0f;
    }
  }
  return raw;
}

// One-shot form: internal distance of query `q` (norm `query_norm`) vs stored row `x`
// (norm `row_norm`), both `dim` floats. Prefer the split form inside loops.
inline float metric_distance(Metric m, const Kernels& k, const float* q, float query_norm,
                             const float* x, float row_norm, std::size_t dim) {
  return finish_distance(m, metric_kernel(m, k)(q, x, dim), query_norm, row_norm);
}

}  // namespace quiver::index
