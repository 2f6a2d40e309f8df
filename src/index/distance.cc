// Portable kernels, the reference loops, and run-time kernel selection.
#include "index/distance.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace quiver::index {

#if defined(QUIVER_INDEX_X86) && (defined(__x86_64__) || defined(__i386__))
#define QUIVER_HAVE_X86_KERNELS 1
namespace detail {
// Defined in distance_avx2.cc / distance_avx512.cc (compiled with their own -m flags); only
// called after __builtin_cpu_supports says the CPU can run them.
float l2_sq_avx2(const float* a, const float* b, std::size_t dim);
float dot_avx2(const float* a, const float* b, std::size_t dim);
float l2_sq_avx512(const float* a, const float* b, std::size_t dim);
float dot_avx512(const float* a, const float* b, std::size_t dim);
}  // namespace detail
#endif

namespace {

// Eight independent accumulators break the loop-carried dependency of the in-order sum, so
// even without SIMD flags the CPU overlaps the adds (and GCC may use SSE for them).
float l2_sq_scalar(const float* a, const float* b, std::size_t dim) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    for (int j = 0; j < 8; ++j) {
      const float d = a[i + j] - b[i + j];
      acc[j] += d * d;
    }
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float dot_scalar(const float* a, const float* b, std::size_t dim) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

const Kernels kScalar{"scalar", &l2_sq_scalar, &dot_scalar};
#ifdef QUIVER_HAVE_X86_KERNELS
const Kernels kAvx2{"avx2", &detail::l2_sq_avx2, &detail::dot_avx2};
const Kernels kAvx512{"avx512", &detail::l2_sq_avx512, &detail::dot_avx512};

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool cpu_has_avx512() {
  __builtin_cpu_init();
  // The AVX-512 file is compiled with F/DQ/BW/VL, so the compiler may use any of them.
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}
#endif

const Kernels& best_kernels() {
#ifdef QUIVER_HAVE_X86_KERNELS
  if (cpu_has_avx512()) return kAvx512;
  if (cpu_has_avx2()) return kAvx2;
#endif
  return kScalar;
}

}  // namespace

const Kernels* kernels_by_name(std::string_view name) {
  if (name == "scalar") return &kScalar;
#ifdef QUIVER_HAVE_X86_KERNELS
  if (name == "avx2") return cpu_has_avx2() ? &kAvx2 : nullptr;
  if (name == "avx512") return cpu_has_avx512() ? &kAvx512 : nullptr;
#endif
  return nullptr;
}

const Kernels& choose_kernels(const char* simd_override) {
  if (simd_override != nullptr && *simd_override != '\0') {
    if (const Kernels* k = kernels_by_name(simd_override)) return *k;
  }
  return best_kernels();
}

const Kernels& kernels() {
  // Resolved once: the CPU cannot change under us, and the env is read before threads exist.
  static const Kernels& chosen = choose_kernels(std::getenv("QUIVER_SIMD"));
  return chosen;
}

float l2_sq_reference(const float* a, const float* b, std::size_t dim) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float dot_reference(const float* a, const float* b, std::size_t dim) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

float norm(const float* a, std::size_t dim) {
  // Double accumulation: norms are computed once per row/query, so accuracy beats speed.
  double sum = 0.0;
  for (std::size_t i = 0; i < dim; ++i) sum += static_cast<double>(a[i]) * a[i];
  return static_cast<float>(std::sqrt(sum));
}

}  // namespace quiver::index
