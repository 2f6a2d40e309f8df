// Wall-clock time in milliseconds and its RFC 3339 rendering. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quiver {

// Milliseconds since the Unix epoch (UTC), from the system clock.
int64_t now_ms();

// "2026-11-23T21:07:19.123Z" (always UTC, always three fractional digits).
std::string format_rfc3339_ms(int64_t ms);

}  // namespace quiver
