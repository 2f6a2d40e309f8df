// CRC-32C (Castagnoli), used to checksum on-disk files we write ourselves (index files).
// Software table implementation; pure function, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quiver {

// Extends `crc` (0 for a fresh checksum) with `n` bytes at `data`.
uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t n);
inline uint32_t crc32c(const void* data, std::size_t n) { return crc32c_extend(0, data, n); }

}  // namespace quiver
