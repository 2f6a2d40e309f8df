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

}  // namespace quiver::index
