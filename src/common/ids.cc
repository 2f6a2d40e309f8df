#include "common/ids.h"

#include <cstdint>
#include <random>

namespace quiver {

std::string new_uuid_v4() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  auto put = [&](uint64_t v, int nibbles_from, int nibbles_to) {
    for (int i = nibbles_from; i < nibbles_to; ++i) s.push_back(kHex[(v >> (60 - 4 * i)) & 0xF]);
  };
  put(hi, 0, 8); s.push_back('-');
  put(hi, 8, 12); s.push_back('-');
  put(hi, 12, 16); s.push_back('-');
  put(lo, 0, 4); s.push_back('-');
  put(lo, 4, 16);
  return s;
}

namespace {
bool all_chars_in(std::string_view s, bool allow_colon) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-' || (allow_colon && c == ':');
    if (!ok) return false;
  }
  return true;
}
}  // namespace

bool is_valid_id(std::string_view id) { return all_chars_in(id, /*allow_colon=*/true); }
bool is_valid_library_name(std::string_view name) { return all_chars_in(name, false); }

}  // namespace quiver
