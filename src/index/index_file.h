// The on-disk container every index uses for save/load (spec: docs/index_file_format.md).
//
//   header (64 bytes: magic, format version, index type, metric, dim, rows, payload length)
//   payload (index-specific bytes, written with the helpers below)
//   trailer (CRC-32C of header + payload, end magic)
//
// A file is complete or absent: commit() writes `path.tmp`, fsyncs, renames over `path` and
// fsyncs the directory. The reader validates everything (magic, version, identity, length,
// checksum) before handing out a single payload byte, and every read is bounds-checked, so
// a flipped byte or a truncated file yields kCorruption, never a crash.
//
// Thread-safety: none; one writer or reader per thread. Values are little-endian (the
// only byte order we build for; static_assert in index_file.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/status.h"
#include "index/metric.h"

namespace quiver::index {

inline constexpr uint32_t kIndexFileVersion = 1;
inline constexpr std::size_t kIndexFileHeaderSize = 64;
inline constexpr std::size_t kIndexFileTrailerSize = 8;
inline constexpr std::size_t kIndexFileMaxTypeName = 15;

// Identity of the index a file belongs to; the reader insists that it matches.
struct IndexFileIdentity {
  std::string type;  // "flat", "hnsw", ...; at most 15 bytes
  Metric metric = Metric::kL2;
  uint64_t rows = 0;
  uint32_t dim = 0;
};

class IndexFileWriter {
 public:
  explicit IndexFileWriter(IndexFileIdentity identity);

  // Appends raw bytes to the payload (buffered in memory until commit()).
  void write_bytes(const void* data, std::size_t n);
  // Appends one trivially copyable value.
  template <typename T>
  void write(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    write_bytes(&v, sizeof(T));
  }
  // Appends a u64 element count followed by the elements.
  template <typename T>
  void write_vector(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    write<uint64_t>(v.size());
    write_bytes(v.data(), v.size() * sizeof(T));
  }

  std::size_t payload_size() const { return payload_.size(); }

  // Writes the whole file atomically at `path` (see the top of this header). Returns
  // kStorageFull when the disk is full, kIOError for other I/O failures, kInternal for a
  // type name longer than 15 bytes. On failure `path` is untouched and no .tmp remains.
  Status commit(const std::string& path) const;

  // The complete file image (header + payload + trailer); commit() writes exactly this.
  // Exposed for tests that damage files on purpose.
  std::vector<uint8_t> serialize() const;

 private:
  IndexFileIdentity identity_;
  std::vector<uint8_t> payload_;
};

class IndexFileReader {
 public:
  // Reads `path` and validates it against `expected`. Returns kNotFound when the file does
  // not exist, kIOError when it cannot be read, and kCorruption when it is damaged,
  // truncated, of an unknown version, or belongs to another type/metric/rows/dim.
  static Result<IndexFileReader> open(const std::string& path, const IndexFileIdentity& expected);
  // The same validation over an in-memory file image (`bytes`, copied).
  static Result<IndexFileReader> from_bytes(std::vector<uint8_t> bytes,
                                            const IndexFileIdentity& expected);

  uint32_t format_version() const { return version_; }
  // Payload bytes not yet read.
  std::size_t remaining() const { return end_ - pos_; }

  // Copies the next `n` payload bytes to `out` (n bytes); kCorruption past the end.
  Status read_bytes(void* out, std::size_t n);
  // Points `*out` at the next `n` payload bytes (valid while the reader lives), zero copy.
  Status read_span(const uint8_t** out, std::size_t n);
  template <typename T>
  Status read(T& out) {
    static_assert(std::is_trivially_copyable_v<T>);
    return read_bytes(&out, sizeof(T));
  }
  // Reads what write_vector() wrote; kCorruption when the count exceeds the remaining bytes
  // or `max_count`.
  template <typename T>
  Status read_vector(std::vector<T>& out, uint64_t max_count = UINT64_MAX) {
    static_assert(std::is_trivially_copyable_v<T>);
    uint64_t count = 0;
    QUIVER_RETURN_IF_ERROR(read(count));
    if (count > max_count || count > remaining() / sizeof(T)) {
      return Status::corruption("index file: vector length " + std::to_string(count) +
                                " exceeds the payload");
    }
    out.resize(count);
    return read_bytes(out.data(), count * sizeof(T));
  }
  // kCorruption unless the whole payload has been read (catches format mix-ups).
  Status expect_end() const;

 private:
  IndexFileReader() = default;
  std::vector<uint8_t> bytes_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  uint32_t version_ = 0;
};

// Stable on-disk code of a metric (independent of the enum's numbering).
uint32_t metric_file_code(Metric m);

}  // namespace quiver::index
