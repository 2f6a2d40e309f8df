// TopK: keeps the k nearest (distance, row) pairs seen so far, plus every candidate tied
// with the current k-th distance, so that callers can break ties by an external key
// (the API breaks ties by chunk id) and still return exactly the right set.
//
// Memory: O(k + ties). Thread-safety: none; one TopK per search thread.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace quiver::index {

struct Neighbor {
  float distance;  // internal distance (lower is nearer; see metric.h)
  uint32_t row;    // row within the searched segment
};

class TopK {
 public:
  explicit TopK(std::size_t k);

  std::size_t k() const { return k_; }
  // The distance a candidate must beat (or tie) to be kept; +inf until k are held.
  float threshold() const {
    // (k == 0 keeps nothing; the empty check keeps front() defined for it.)
    return heap_.size() < k_ || heap_.empty() ? std::numeric_limits<float>::infinity()
                                              : heap_.front().distance;
  }
  void push(float distance, uint32_t row);

  // Everything kept, nearest first (ties by row): at least min(k, seen) entries, more when
  // candidates tie with the k-th distance. Leaves the TopK empty.
  std::vector<Neighbor> take_sorted();

 private:
  std::size_t k_;
  std::vector<Neighbor> heap_;  // max-heap on (distance, row): front is the worst kept
  std::vector<Neighbor> ties_;  // rejected candidates whose distance equals the worst kept
};

}  // namespace quiver::index
