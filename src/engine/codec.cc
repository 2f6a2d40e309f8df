#include "engine/codec.h"

#include <bit>
#include <cstring>
#include <type_traits>

namespace quiver::engine::codec {

static_assert(std::endian::native == std::endian::little,
              "the record format stores float32/float64 little-endian by memcpy");

namespace {

enum MetaTag : uint8_t { kTagString = 0, kTagInt = 1, kTagDouble = 2, kTagBool = 3, kTagList = 4 };

class Writer {
 public:
  explicit Writer(std::size_t reserve = 64) { out_.reserve(reserve); }
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void svarint(int64_t v) {
    varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void opt_str(const std::optional<std::string>& s) {
    u8(s ? 1 : 0);
    if (s) str(*s);
  }
  void f64(double d) {
    char buf[8];
    std::memcpy(buf, &d, 8);
    out_.append(buf, 8);
  }
  void metadata(const Metadata& m) {
    varint(m.size());
    for (const auto& [name, value] : m) {
      str(name);
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
              u8(kTagString);
              str(v);
            } else if constexpr (std::is_same_v<T, int64_t>) {
              u8(kTagInt);
              svarint(v);
            } else if constexpr (std::is_same_v<T, double>) {
              u8(kTagDouble);
              f64(v);
            } else if constexpr (std::is_same_v<T, bool>) {
              u8(kTagBool);
              u8(v ? 1 : 0);
            } else {
              u8(kTagList);
              varint(v.size());
              for (const auto& s : v) str(s);
            }
          },
          value);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return in_.empty(); }
  uint8_t u8() {
    if (in_.empty()) return fail<uint8_t>();
    const auto v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return v;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return fail<uint64_t>();
      const auto b = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      if (shift == 63 && b > 1) return fail<uint64_t>();  // overflows 64 bits
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail<uint64_t>();
  }
  int64_t svarint() {
    const uint64_t z = varint();
    return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }
  uint32_t u32() {
    const uint64_t v = varint();
    if (v > UINT32_MAX) return fail<uint32_t>();
    return static_cast<uint32_t>(v);
  }
  std::string_view bytes(std::size_t n) {
    if (in_.size() < n) return fail<std::string_view>();
    std::string_view v = in_.substr(0, n);
    in_.remove_prefix(n);
    return v;
  }
  std::string_view str_view() {
    const uint64_t n = varint();
    if (!ok_ || n > in_.size()) return fail<std::string_view>();
    return bytes(static_cast<std::size_t>(n));
  }
  std::string str() { return std::string(str_view()); }
  std::optional<std::string> opt_str() {
    const uint8_t present = u8();
    if (present > 1) return fail<std::optional<std::string>>();
    if (present == 0) return std::nullopt;
    return str();
  }
  double f64() {
    std::string_view b = bytes(8);
    double d = 0;
    if (ok_) std::memcpy(&d, b.data(), 8);
    return d;
  }
  bool boolean() {
    const uint8_t b = u8();
    if (b > 1) fail<bool>();
    return b == 1;
  }
  // A count of items each at least `min_item_bytes` long: rejects counts the input cannot
  // hold before anything is allocated for them.
  uint64_t count(std::size_t min_item_bytes) {
    const uint64_t n = varint();
    if (!ok_ || n > in_.size() / std::max<std::size_t>(1, min_item_bytes)) return fail<uint64_t>();
    return n;
  }
  void metadata(Metadata& m) {
    m.clear();
    const uint64_t n = count(3);
    std::string prev;
    for (uint64_t i = 0; i < n && ok_; ++i) {
      std::string name = str();
      // Keys were written from a std::map: strictly increasing; anything else is damage.
      if (!ok_ || (i > 0 && name <= prev)) {
        fail<int>();
        return;
      }
      prev = name;
      const uint8_t tag = u8();
      MetaValue value;
      switch (tag) {
        case kTagString: value = str(); break;
        case kTagInt: value = svarint(); break;
        case kTagDouble: value = f64(); break;
        case kTagBool: value = boolean(); break;
        case kTagList: {
          const uint64_t k = count(1);
          StringList list;
          list.reserve(static_cast<std::size_t>(k));
          for (uint64_t j = 0; j < k && ok_; ++j) list.push_back(str());
          value = std::move(list);
          break;
        }
        default: fail<int>(); return;
      }
      m.emplace(std::move(name), std::move(value));
    }
  }

 private:
  template <typename T>
  T fail() {
    ok_ = false;
    in_ = {};
    return T{};
  }
  std::string_view in_;
  bool ok_ = true;
};

Status finish(const Reader& r, const char* what) {
  if (!r.ok()) return Status::corruption(std::string(what) + " record is truncated or malformed");
  if (!r.at_end()) return Status::corruption(std::string(what) + " record has trailing bytes");
  return Status::ok();
}

Status check_format(Reader& r, const char* what) {
  const uint8_t f = r.u8();
  if (!r.ok() || f != kRecordFormat) {
    return Status::corruption(std::string(what) + " record has unknown format " +
                              std::to_string(f));
  }
  return Status::ok();
}

}  // namespace

std::vector<float> ChunkRecord::embedding_floats() const {
  std::vector<float> v(embedding_bytes.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), embedding_bytes.data(), v.size() * 4);
  return v;
}

std::string_view float_bytes(const std::vector<float>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)};
}

// ---- Library --------------------------------------------------------------------------
std::string encode_library(const LibraryRecord& r) {
  const Library& l = r.library;
  Writer w(128);
  w.u8(kRecordFormat);
  w.str(l.id);
  w.str(l.name);
  w.opt_str(l.description);
  w.varint(l.dimension);
  w.u8(static_cast<uint8_t>(l.metric));
  w.str(l.index.type);
  w.varint(l.index.params.size());
  for (const auto& [k, v] : l.index.params) {
    w.str(k);
    w.svarint(v);
  }
  w.u8(l.embedder ? 1 : 0);
  if (l.embedder) {
    w.str(l.embedder->provider);
    w.str(l.embedder->model);
    w.varint(l.embedder->dimension);
    w.opt_str(l.embedder->base_url);
    w.opt_str(l.embedder->api_key_env);
  }
  w.metadata(l.metadata);
  w.svarint(l.created_at);
  w.svarint(l.updated_at);
  w.varint(l.version);
  w.varint(r.seq);
  return w.take();
}

Status decode_library(std::string_view in, LibraryRecord& out) {
  Reader r(in);
  QUIVER_RETURN_IF_ERROR(check_format(r, "library"));
  Library& l = out.library;
  l.id = r.str();
  l.name = r.str();
  l.description = r.opt_str();
  l.dimension = r.u32();
  const uint8_t metric = r.u8();
  if (metric > static_cast<uint8_t>(Metric::kDot)) return Status::corruption("library metric");
  l.metric = static_cast<Metric>(metric);
  l.index.type = r.str();
  l.index.params.clear();
  const uint64_t nparams = r.count(2);
  for (uint64_t i = 0; i < nparams && r.ok(); ++i) {
    std::string k = r.str();
    l.index.params[std::move(k)] = r.svarint();
  }
  const uint8_t has_embedder = r.u8();
  if (has_embedder > 1) return Status::corruption("library record: bad embedder flag");
  l.embedder.reset();
  if (has_embedder == 1) {
    EmbedderConfig e;
    e.provider = r.str();
    e.model = r.str();
    e.dimension = r.u32();
    e.base_url = r.opt_str();
    e.api_key_env = r.opt_str();
    l.embedder = std::move(e);
  }
  r.metadata(l.metadata);
  l.created_at = r.svarint();
  l.updated_at = r.svarint();
  l.version = r.varint();
  out.seq = r.varint();
  return finish(r, "library");
}

// ---- Document -------------------------------------------------------------------------
std::string encode_document(const DocumentRecord& r) {
  const Document& d = r.document;
  Writer w(64);
  w.u8(kRecordFormat);
  w.str(d.id);
  w.opt_str(d.title);
  w.metadata(d.metadata);
  w.svarint(d.created_at);
  w.svarint(d.updated_at);
  w.varint(d.version);
  w.varint(d.chunk_count);
  w.varint(r.seq);
  return w.take();
}

Status decode_document(std::string_view in, std::string_view library_id, DocumentRecord& out) {
  Reader r(in);
  QUIVER_RETURN_IF_ERROR(check_format(r, "document"));
  Document& d = out.document;
  d.id = r.str();
  d.library_id = std::string(library_id);
  d.title = r.opt_str();
  r.metadata(d.metadata);
  d.created_at = r.svarint();
  d.updated_at = r.svarint();
  d.version = r.varint();
  d.chunk_count = r.varint();
  out.seq = r.varint();
  return finish(r, "document");
}

// ---- Chunk ----------------------------------------------------------------------------
std::string encode_chunk(const ChunkRecord& r) {
  const Chunk& c = r.chunk;
  Writer w(64 + c.text.size() + r.embedding_bytes.size());
  w.u8(kRecordFormat);
  w.str(c.id);
  w.str(c.document_id);
  w.str(c.text);
  w.metadata(c.metadata);
  w.svarint(c.created_at);
  w.svarint(c.updated_at);
  w.varint(c.version);
  w.varint(r.position);
  w.varint(r.seq);
  w.str(r.embedding_bytes);
  return w.take();
}

Status decode_chunk(std::string_view in, std::string_view library_id, ChunkRecord& out) {
  Reader r(in);
  QUIVER_RETURN_IF_ERROR(check_format(r, "chunk"));
  Chunk& c = out.chunk;
  c.id = r.str();
  c.library_id = std::string(library_id);
  c.document_id = r.str();
  c.text = r.str();
  r.metadata(c.metadata);
  c.created_at = r.svarint();
  c.updated_at = r.svarint();
  c.version = r.varint();
  c.embedding.reset();
  out.position = r.varint();
  out.seq = r.varint();
  out.embedding_bytes = r.str_view();
  if (out.embedding_bytes.size() % 4 != 0) return Status::corruption("chunk embedding length");
  return finish(r, "chunk");
}

// ---- Keys -----------------------------------------------------------------------------
void put_be64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

uint64_t get_be64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

std::string lib_prefix(std::string_view lib_id) {
  std::string k(lib_id);
  k.push_back('\0');
  return k;
}

std::string lib_key(std::string_view lib_id, std::string_view id) {
  std::string k = lib_prefix(lib_id);
  k.append(id);
  return k;
}

std::string library_order_key(uint64_t seq) {
  std::string k;
  put_be64(k, seq);
  return k;
}

std::string document_order_key(std::string_view lib_id, uint64_t seq) {
  std::string k = lib_prefix(lib_id);
  put_be64(k, seq);
  return k;
}

std::string chunk_order_prefix(std::string_view lib_id, std::string_view doc_id) {
  std::string k = lib_key(lib_id, doc_id);
  k.push_back('\0');
  return k;
}

std::string chunk_order_key(std::string_view lib_id, std::string_view doc_id, uint64_t position,
                            uint64_t seq) {
  std::string k = chunk_order_prefix(lib_id, doc_id);
  put_be64(k, position);
  k.push_back('\0');
  put_be64(k, seq);
  return k;
}

// ---- base64url ------------------------------------------------------------------------
namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
  } else if (rest == 2) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = b64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Non-canonical encodings (non-zero leftover bits) are rejected so a cursor has one form.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace quiver::engine::codec
