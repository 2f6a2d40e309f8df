// Bounded squared-L2 kernels for the HNSW search: most distances computed during a graph
// search belong to candidates that are rejected because they are farther than the current
// ef-th result, so checking a partial sum against that bound every block of dimensions
// skips a large part of the arithmetic and of the memory traffic.
//
// The SIMD variants use function-level target attributes and are only called after the
// CPU was checked, so the translation unit itself stays baseline x86-64.
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "index/hnsw.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace quiver::index::hnsw::internal {
namespace {

// How many floats are summed between two bound checks: a check costs a horizontal
// reduction, so it must be amortised over several vector FMAs.
constexpr std::size_t kBlock = 128;

float bounded_l2_scalar(const float* a, const float* b, std::size_t dim, float bound) {
  float sum = 0.0f;
  std::size_t i = 0;
  while (i < dim) {
    std::size_t end = i + kBlock < dim ? i + kBlock : dim;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (; i + 4 <= end; i += 4) {
      float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
      float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; i < end; ++i) {
      float d = a[i] - b[i];
      s0 += d * d;
    }
    sum += (s0 + s1) + (s2 + s3);
    if (sum > bound) return sum;
  }
  return sum;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float hsum256(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma"))) float bounded_l2_avx2(const float* a, const float* b,
                                                          std::size_t dim, float bound) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  std::size_t i = 0;
  std::size_t next_check = kBlock;
  for (; i + 16 <= dim; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
    if (i + 16 >= next_check) {
      next_check += kBlock;
      float partial = hsum256(_mm256_add_ps(acc0, acc1));
      if (partial > bound) return partial;
    }
  }
  float sum = hsum256(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) {
    float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

// Horizontal sum via the two 256-bit halves: GCC 12's _mm512_reduce_add_ps (and the
// 512->256 casts) self-initialise an undefined register and trip
// -Werror=maybe-uninitialized; extractf32x8 (AVX512DQ) does not.
__attribute__((target("avx512f,avx512dq,avx2,fma"))) float hsum512(__m512 v) {
  return hsum256(_mm256_add_ps(_mm512_extractf32x8_ps(v, 0), _mm512_extractf32x8_ps(v, 1)));
}

__attribute__((target("avx512f,avx512dq,avx2,fma"))) float bounded_l2_avx512(
    const float* a, const float* b, std::size_t dim, float bound) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  std::size_t i = 0;
  std::size_t next_check = kBlock;
  for (; i + 32 <= dim; i += 32) {
    __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
    if (i + 32 >= next_check) {
      next_check += kBlock;
      float partial = hsum512(_mm512_add_ps(acc0, acc1));
      if (partial > bound) return partial;
    }
  }
  if (i + 16 <= dim) {
    __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    i += 16;
  }
  if (i < dim) {
    // Masked tail: lanes past `dim` load as zero in both operands.
    __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1u);
    __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
    acc1 = _mm512_fmadd_ps(d0, d0, acc1);
  }
  return hsum512(_mm512_add_ps(acc0, acc1));
}
#endif

// The plain kernel of distance.h, never stopping early (QUIVER_HNSW_EARLY_STOP=0), kept so
// the benchmark can measure what the early stop buys.
float unbounded_l2(const float* a, const float* b, std::size_t dim, float /*bound*/) {
  static const DistanceFn fn = kernels().l2_sq;
  return fn(a, b, dim);
}

uint32_t code_l2_scalar(const uint8_t* a, const uint8_t* b, std::size_t dim) {
  uint32_t sum = 0;
  for (std::size_t i = 0; i < dim; ++i) {
    const int d = int{a[i]} - int{b[i]};
    sum += static_cast<uint32_t>(d * d);
  }
  return sum;
}

#if defined(__x86_64__)
// Bytes widened to 16-bit lanes, differences squared and pair-summed into 32-bit lanes by
// madd (each pair <= 2 * 255^2, so no 16-bit overflow).
__attribute__((target("avx2"))) uint32_t code_l2_avx2(const uint8_t* a, const uint8_t* b,
                                                      std::size_t dim) {
  __m256i acc = _mm256_setzero_si256();
  std::size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    const __m256i x = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    const __m256i y = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    const __m256i d = _mm256_sub_epi16(x, y);
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
  }
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  uint32_t sum = static_cast<uint32_t>(_mm_cvtsi128_si32(s));
  return sum + code_l2_scalar(a + i, b + i, dim - i);
}

__attribute__((target("avx512f,avx512bw,avx2"))) uint32_t code_l2_avx512(const uint8_t* a,
                                                                         const uint8_t* b,
                                                                         std::size_t dim) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    const __m512i x0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)));
    const __m512i y0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
    const __m512i x1 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i + 32)));
    const __m512i y1 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i + 32)));
    const __m512i d0 = _mm512_sub_epi16(x0, y0);
    const __m512i d1 = _mm512_sub_epi16(x1, y1);
    acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(d0, d0));
    acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(d1, d1));
  }
  if (i + 32 <= dim) {
    const __m512i x0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)));
    const __m512i y0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
    const __m512i d0 = _mm512_sub_epi16(x0, y0);
    acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(d0, d0));
    i += 32;
  }
  acc0 = _mm512_add_epi32(acc0, acc1);
  // Reduce through 256-bit halves with AVX2 (see hsum512 for why not the 512 reduce).
  alignas(64) uint32_t lanes[16];
  _mm512_store_si512(reinterpret_cast<__m512i*>(lanes), acc0);
  uint32_t sum = 0;
  for (uint32_t lane : lanes) sum += lane;
  return sum + code_l2_scalar(a + i, b + i, dim - i);
}
#endif

CodeL2Fn choose_code() {
  const char* env = std::getenv("QUIVER_SIMD");
  std::string_view want = env != nullptr ? env : "";
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool has_avx2 = __builtin_cpu_supports("avx2");
  const bool has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  if (want == "scalar") return code_l2_scalar;
  if (want == "avx2") return has_avx2 ? code_l2_avx2 : code_l2_scalar;
  if (has_avx512) return code_l2_avx512;
  if (has_avx2) return code_l2_avx2;
#endif
  return code_l2_scalar;
}

BoundedL2Fn choose() {
  const char* early = std::getenv("QUIVER_HNSW_EARLY_STOP");
  if (early != nullptr && std::string_view(early) == "0") return unbounded_l2;
  const char* env = std::getenv("QUIVER_SIMD");
  std::string_view want = env != nullptr ? env : "";
#if defined(__x86_64__)
  __builtin_cpu_init();
  bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  if (want == "scalar") return bounded_l2_scalar;
  if (want == "avx2") return has_avx2 ? bounded_l2_avx2 : bounded_l2_scalar;
  if (has_avx512) return bounded_l2_avx512;
  if (has_avx2) return bounded_l2_avx2;
#endif
  return bounded_l2_scalar;
}

}  // namespace

CodeL2Fn code_l2() {
  static const CodeL2Fn fn = choose_code();
  return fn;
}

BoundedL2Fn bounded_l2() {
  static const BoundedL2Fn fn = choose();
  return fn;
}

}  // namespace quiver::index::hnsw::internal
