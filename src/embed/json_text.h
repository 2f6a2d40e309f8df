// Minimal JSON text helpers for provider requests (we only ever write small objects of strings
// and numbers, so a full writer would be overkill).
//
// Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

namespace quiver::embed {

// Appends `s` to `*out` as a JSON string literal, quotes included: `"`, `\` and control
// characters are escaped; valid UTF-8 passes through; each byte of an invalid UTF-8 sequence
// becomes U+FFFD, so the provider always receives valid JSON whatever bytes we were given.
void append_json_string(std::string* out, std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace quiver::embed
