#include "index/metric.h"

#include <cmath>

namespace quiver::index {

std::string_view metric_name(Metric m) {
  switch (m) {
    case Metric::kCosine: return "cosine";
    case Metric::kL2: return "l2";
    case Metric::kDot: return "dot";
  }
  return "unknown";
}

std::optional<Metric> parse_metric(std::string_view name) {
  if (name == "cosine") return Metric::kCosine;
  if (name == "l2") return Metric::kL2;
  if (name == "dot") return Metric::kDot;
  return std::nullopt;
}

float distance_to_score(Metric m, float distance) {
  switch (m) {
    case Metric::kL2:
      // Rounding in the kernels can give a tiny negative squared distance for equal vectors.
      return std::sqrt(distance > 0.0f ? distance : 0.0f);
    case Metric::kCosine:
    case Metric::kDot:
      return -distance;
  }
  return distance;
}

}  // namespace quiver::index
