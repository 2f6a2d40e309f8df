#include "engine/segment_manifest.h"

#include <cstring>

#include "engine/codec.h"

namespace quiver::engine::manifest {

namespace {

constexpr std::string_view kPrefix{"segments\0", 9};

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_str(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) return false;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool str(std::string& s) {
    uint64_t n = 0;
    if (!varint(n) || n > in_.size() - pos_) return false;
    s.assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool fixed64(uint64_t& v) {
    if (in_.size() - pos_ < 8) return false;
    std::memcpy(&v, in_.data() + pos_, 8);  // little-endian hosts only (as codec.cc)
    pos_ += 8;
    return true;
  }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string all_prefix() { return std::string(kPrefix); }

std::string library_prefix(std::string_view lib_id) {
  std::string k(kPrefix);
  k.append(lib_id);
  k.push_back('\0');
  return k;
}

std::string key(std::string_view lib_id, uint64_t segment_id) {
  std::string k = library_prefix(lib_id);
  codec::put_be64(k, segment_id);
  return k;
}

bool parse_key(std::string_view key, std::string_view& lib_id, uint64_t& segment_id) {
  if (key.size() < kPrefix.size() + 1 + 1 + 8 || key.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  const std::string_view rest = key.substr(kPrefix.size());
  if (rest[rest.size() - 9] != '\0') return false;
  lib_id = rest.substr(0, rest.size() - 9);
  if (lib_id.find('\0') != std::string_view::npos) return false;
  segment_id = codec::get_be64(rest.substr(rest.size() - 8));
  return true;
}

std::string encode(const SegmentManifest& m) {
  std::string out;
  out.reserve(32 + m.chunk_ids.size() * 48);
  out.push_back(static_cast<char>(kManifestFormat));
  put_str(out, m.index.type);
  put_varint(out, m.index.params.size());
  for (const auto& [name, value] : m.index.params) {
    put_str(out, name);
    put_varint(out, (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
  }
  put_varint(out, m.chunk_ids.size());
  for (std::size_t i = 0; i < m.chunk_ids.size(); ++i) {
    put_str(out, m.chunk_ids[i]);
    char b[8];
    std::memcpy(b, &m.hashes[i], 8);
    out.append(b, 8);
  }
  return out;
}

Status decode(std::string_view in, SegmentManifest& out) {
  auto bad = [](const char* what) {
    return Status::corruption(std::string("segment manifest: ") + what);
  };
  if (in.empty() || static_cast<uint8_t>(in[0]) != kManifestFormat) return bad("unknown format");
  Reader r(in.substr(1));
  uint64_t n = 0;
  if (!r.str(out.index.type) || !r.varint(n) || n > r.remaining()) return bad("truncated config");
  out.index.params.clear();
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    uint64_t z = 0;
    if (!r.str(name) || !r.varint(z)) return bad("truncated param");
    out.index.params[name] = static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  // Each row takes at least 9 bytes (empty id + hash): bounds the reservation.
  if (!r.varint(n) || n > r.remaining() / 9 || n > UINT32_MAX) return bad("bad row count");
  out.chunk_ids.assign(n, {});
  out.hashes.assign(n, 0);
  for (uint64_t i = 0; i < n; ++i) {
    if (!r.str(out.chunk_ids[i]) || !r.fixed64(out.hashes[i])) return bad("truncated row");
  }
  if (r.remaining() != 0) return bad("trailing bytes");
  return Status::ok();
}

uint64_t embedding_hash(const void* bytes, std::size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = static_cast<const uint8_t*>(bytes);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace quiver::engine::manifest
