// Distance metrics and the internal "distance" convention shared by every index.
//
// Every index ranks by a distance where LOWER IS NEARER, so one top-k structure serves all
// metrics:
//   kL2     : squared Euclidean distance          -> score = sqrt(distance)
//   kDot    : -dot(q, x)                            -> score = -distance
//   kCosine : -dot(q, x) / (|q| * |x|), using the   -> score = -distance
//             row norms stored beside the vectors (never renormalised per query).
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace quiver::index {

enum class Metric { kCosine, kL2, kDot };

std::string_view metric_name(Metric m);
std::optional<Metric> parse_metric(std::string_view name);

// Converts an internal distance into the score the API reports.
float distance_to_score(Metric m, float distance);

}  // namespace quiver::index
