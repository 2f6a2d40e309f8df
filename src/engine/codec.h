// Binary codec of the records the engine keeps in RocksDB, and of their keys.
//
// Every record starts with a format byte (kRecordFormat) followed by fields in a fixed order:
// unsigned varints (LEB128), zig-zag varints for signed values, length-prefixed strings,
// little-endian float32/float64, and tagged metadata values. The layout is specified in
// docs/storage_format.md. Decoding never trusts its input: any truncation, overlong varint,
// unknown tag or trailing byte yields kCorruption.
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/types.h"

namespace quiver::engine::codec {

inline constexpr uint8_t kRecordFormat = 1;

// ---- Records ----------------------------------------------------------------------------
struct LibraryRecord {
  Library library;
  uint64_t seq = 0;  // creation sequence (the library_order key)
};

struct DocumentRecord {
  Document document;  // library_id is not stored (it is the key prefix); set by the decoder
  uint64_t seq = 0;   // creation sequence (the document_order key)
};

struct ChunkRecord {
  Chunk chunk;  // library_id comes from the key; `embedding` is left empty by decode
  uint64_t position = 0;
  uint64_t seq = 0;
  // The embedding as raw little-endian float32 bytes. decode_chunk points it INTO the input
  // buffer (valid while that buffer is), so recovery copies vectors once, straight into
  // segments; encode_chunk reads it from here too.
  std::string_view embedding_bytes;
  uint32_t dimension() const { return static_cast<uint32_t>(embedding_bytes.size() / 4); }
  // Copies the embedding out as floats.
  std::vector<float> embedding_floats() const;
};

std::string encode_library(const LibraryRecord& r);
Status decode_library(std::string_view in, LibraryRecord& out);

std::string encode_document(const DocumentRecord& r);
// `library_id` fills out.document.library_id.
Status decode_document(std::string_view in, std::string_view library_id, DocumentRecord& out);

std::string encode_chunk(const ChunkRecord& r);
// The returned record's embedding_bytes points into `in`.
Status decode_chunk(std::string_view in, std::string_view library_id, ChunkRecord& out);

// Raw float32 bytes of `v` (little-endian hosts only, checked at compile time in codec.cc).
std::string_view float_bytes(const std::vector<float>& v);

// ---- Keys -------------------------------------------------------------------------------
// Big-endian so that byte order is numeric order.
void put_be64(std::string& out, uint64_t v);
uint64_t get_be64(std::string_view in);  // REQUIRES: in.size() >= 8

// lib_id '\0' : the prefix of every key of a library in the per-library column families.
std::string lib_prefix(std::string_view lib_id);
// lib_id '\0' id : documents and chunks keys.
std::string lib_key(std::string_view lib_id, std::string_view id);
std::string library_order_key(uint64_t seq);
std::string document_order_key(std::string_view lib_id, uint64_t seq);
// lib_id '\0' doc_id '\0' : prefix of one document's chunk_order keys.
std::string chunk_order_prefix(std::string_view lib_id, std::string_view doc_id);
std::string chunk_order_key(std::string_view lib_id, std::string_view doc_id, uint64_t position,
                            uint64_t seq);

// ---- Cursors ----------------------------------------------------------------------------
std::string base64url_encode(std::string_view bytes);
// nullopt when `text` is not unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace quiver::engine::codec
