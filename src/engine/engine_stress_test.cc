// Concurrency stress: writers creating/adding/updating/deleting while readers search, list
// and get (invariants in engine_stress_harness.h). Bounded iteration counts, not wall time;
// runs under ThreadSanitizer in CI.
#include "engine/engine_stress_harness.h"

namespace quiver::engine {
namespace {

constexpr int kWriters = 4;
constexpr int kReaders = 5;
constexpr int kWriterOps = 400;
constexpr int kReaderOps = 600;

class EngineStressTest : public testing::StressFixture {};

TEST_F(EngineStressTest, ConcurrentWritersAndReaders) {
  auto lib = make_library("stress", testing::kStressDim, Metric::kL2);
  const std::string L = lib.library.id;

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] { run_writer(L, w, kWriterOps, /*paced=*/false); });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] { run_reader(L, r, kReaderOps); });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures_.load(), 0);

  const Totals t = check_quiescent(L, /*expect_exact=*/false);
  std::printf("[ stress ] %llu documents, %llu chunks live at the end\n",
              static_cast<unsigned long long>(t.documents),
              static_cast<unsigned long long>(t.chunks));
}

}  // namespace
}  // namespace quiver::engine
