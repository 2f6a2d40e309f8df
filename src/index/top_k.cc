#include "index/top_k.h"

#include <algorithm>
#include <cmath>

namespace quiver::index {

namespace {
// Heap order: the "largest" (worst) neighbour sits at the front.
bool worse_first(const Neighbor& a, const Neighbor& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.row < b.row);
}
}  // namespace

TopK::TopK(std::size_t k) : k_(k) { heap_.reserve(k < 1024 ? k : 1024); }

// Invariant: heap_ holds the min(k, seen) nearest candidates; ties_ holds every other
// candidate whose distance equals heap_.front().distance (the current k-th distance).
void TopK::push(float distance, uint32_t row) {
  if (k_ == 0 || std::isnan(distance)) return;  // NaN would break the heap order
  if (heap_.size() < k_) {
    heap_.push_back({distance, row});
    std::push_heap(heap_.begin(), heap_.end(), worse_first);
    return;
  }
  const float worst = heap_.front().distance;
  if (distance > worst) return;
  if (distance == worst) {
    ties_.push_back({distance, row});
    return;
  }
  std::pop_heap(heap_.begin(), heap_.end(), worse_first);
  const Neighbor evicted = heap_.back();
  heap_.back() = {distance, row};
  std::push_heap(heap_.begin(), heap_.end(), worse_first);
  if (heap_.front().distance == evicted.distance) {
    // The evicted one still ties with the new k-th distance, so it stays a tie candidate.
    ties_.push_back(evicted);
  } else {
    // The k-th distance dropped below the old one: old ties are now strictly worse.
    ties_.clear();
  }
}

std::vector<Neighbor> TopK::take_sorted() {
  std::vector<Neighbor> out;
  out.swap(heap_);
  out.insert(out.end(), ties_.begin(), ties_.end());
  ties_.clear();
  std::sort(out.begin(), out.end(), [](const Neighbor& a, const Neighbor& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.row < b.row);
  });
  return out;
}

}  // namespace quiver::index
