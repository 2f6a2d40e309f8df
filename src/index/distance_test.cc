#include "index/distance.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace quiver::index {
namespace {

// `n` floats that end exactly at a PROT_NONE page, so a kernel reading even one float past
// the end faults instead of passing by luck.
class GuardedFloats {
 public:
  explicit GuardedFloats(std::size_t n) : n_(n) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t data_bytes = (n * sizeof(float) + page - 1) / page * page;
    size_ = data_bytes + page;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    base_ = static_cast<char*>(p);
    EXPECT_EQ(mprotect(base_ + data_bytes, page, PROT_NONE), 0);
    data_ = reinterpret_cast<float*>(base_ + data_bytes) - n;
  }
  ~GuardedFloats() { munmap(base_, size_); }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;
  float* data() { return data_; }

 private:
  std::size_t n_;
  std::size_t size_ = 0;
  char* base_ = nullptr;
  float* data_ = nullptr;
};

std::vector<std::string> available_kernels() {
  std::vector<std::string> names;
  for (const char* n : {"scalar", "avx2", "avx512"}) {
    if (kernels_by_name(n) != nullptr) names.emplace_back(n);
  }
  return names;
}

TEST(DistanceTest, EveryKernelMatchesReference) {
  std::vector<std::size_t> dims;
  for (std::size_t d = 1; d <= 40; ++d) dims.push_back(d);
  for (std::size_t d : {127, 128, 784, 1536, 16384}) dims.push_back(d);
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  const auto names = available_kernels();
  ASSERT_FALSE(names.empty());
  for (std::size_t dim : dims) {
    GuardedFloats a(dim), b(dim);
    for (std::size_t i = 0; i < dim; ++i) {
      a.data()[i] = gauss(rng);
      b.data()[i] = gauss(rng);
    }
    // Error bound scale: the sum of absolute terms (the result itself may cancel to ~0).
    double abs_l2 = 0, abs_dot = 0;
    for (std::size_t i = 0; i < dim; ++i) {
      const double d = static_cast<double>(a.data()[i]) - b.data()[i];
      abs_l2 += d * d;
      abs_dot += std::fabs(static_cast<double>(a.data()[i]) * b.data()[i]);
    }
    const float ref_l2 = l2_sq_reference(a.data(), b.data(), dim);
    const float ref_dot = dot_reference(a.data(), b.data(), dim);
    for (const auto& name : names) {
      const Kernels* k = kernels_by_name(name);
      ASSERT_NE(k, nullptr);
      EXPECT_EQ(k->name, name);
      EXPECT_NEAR(k->l2_sq(a.data(), b.data(), dim), ref_l2, 1e-5 * abs_l2 + 1e-6)
          << name << " dim " << dim;
      EXPECT_NEAR(k->dot(a.data(), b.data(), dim), ref_dot, 1e-5 * abs_dot + 1e-6)
          << name << " dim " << dim;
      // Unaligned start (one float in), which also shifts where the tail begins.
      if (dim > 1) {
        const float r = l2_sq_reference(a.data() + 1, b.data() + 1, dim - 1);
        EXPECT_NEAR(k->l2_sq(a.data() + 1, b.data() + 1, dim - 1), r, 1e-5 * abs_l2 + 1e-6)
            << name << " unaligned dim " << dim - 1;
      }
    }
  }
}

TEST(DistanceTest, KnownValues) {
  const float a[3] = {1, 2, 3};
  const float b[3] = {4, 6, 3};
  for (const auto& name : available_kernels()) {
    const Kernels* k = kernels_by_name(name);
    EXPECT_FLOAT_EQ(k->l2_sq(a, b, 3), 25.0f) << name;
    EXPECT_FLOAT_EQ(k->dot(a, b, 3), 25.0f) << name;  // 4 + 12 + 9
    EXPECT_FLOAT_EQ(k->l2_sq(a, a, 3), 0.0f) << name;
  }
  EXPECT_FLOAT_EQ(norm(a, 3), std::sqrt(14.0f));
}

TEST(DistanceTest, SelectionAndOverride) {
  EXPECT_NE(kernels_by_name("scalar"), nullptr);
  EXPECT_EQ(kernels_by_name("sse9"), nullptr);
  const Kernels& best = choose_kernels(nullptr);
  EXPECT_EQ(&choose_kernels(""), &best);
  EXPECT_EQ(&choose_kernels("bogus"), &best);  // unknown names fall back to the best
  EXPECT_EQ(choose_kernels("scalar").name, "scalar");
  for (const char* n : {"avx2", "avx512"}) {
    if (kernels_by_name(n) != nullptr) {
      EXPECT_EQ(choose_kernels(n).name, n);
    } else {
      EXPECT_EQ(&choose_kernels(n), &best);
    }
  }
#if defined(__x86_64__)
  // This machine is expected to have AVX-512; if it does, it must be the default.
  if (kernels_by_name("avx512") != nullptr) {
    EXPECT_EQ(best.name, "avx512");
  } else if (kernels_by_name("avx2") != nullptr) {
    EXPECT_EQ(best.name, "avx2");
  }
#endif
  // kernels() honours QUIVER_SIMD as read at first use.
  EXPECT_EQ(kernels().name, choose_kernels(std::getenv("QUIVER_SIMD")).name);
}

TEST(DistanceTest, MetricDistanceConvention) {
  const float q[2] = {3, 4};  // norm 5
  const float x[2] = {6, 8};  // norm 10
  const Kernels& k = kernels();
  EXPECT_FLOAT_EQ(metric_distance(Metric::kL2, k, q, 5, x, 10, 2), 25.0f);
  EXPECT_FLOAT_EQ(metric_distance(Metric::kDot, k, q, 5, x, 10, 2), -50.0f);
  EXPECT_FLOAT_EQ(metric_distance(Metric::kCosine, k, q, 5, x, 10, 2), -1.0f);
  // The stored norm is used as given, not recomputed (a stale norm changes the answer).
  EXPECT_FLOAT_EQ(metric_distance(Metric::kCosine, k, q, 5, x, 20, 2), -0.5f);
  EXPECT_FLOAT_EQ(metric_distance(Metric::kCosine, k, q, 5, x, 0, 2), 0.0f);
  EXPECT_FLOAT_EQ(distance_to_score(Metric::kL2, 25.0f), 5.0f);
  EXPECT_FLOAT_EQ(distance_to_score(Metric::kL2, -1e-7f), 0.0f);
  EXPECT_FLOAT_EQ(distance_to_score(Metric::kCosine, -0.5f), 0.5f);
  EXPECT_FLOAT_EQ(distance_to_score(Metric::kDot, -50.0f), 50.0f);
}

TEST(MetricTest, NamesRoundTrip) {
  for (Metric m : {Metric::kCosine, Metric::kL2, Metric::kDot}) {
    auto parsed = parse_metric(metric_name(m));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, m);
  }
  EXPECT_FALSE(parse_metric("L2").has_value());
  EXPECT_FALSE(parse_metric("").has_value());
}

}  // namespace
}  // namespace quiver::index
