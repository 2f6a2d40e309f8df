// Chunk CRUD, and the chunk preparation shared with document creation.
#include <mutex>

#include "common/ids.h"
#include "common/time.h"
#include "engine/database_impl.h"
#include "engine/embedding.h"
#include "engine/schema.h"
#include "engine/validate.h"

namespace quiver::engine {

namespace {

constexpr std::string_view kPosition = "position";

Status library_gone(std::string_view id) {
  return Status::not_found("library '" + std::string(id) + "' does not exist");
}

std::optional<uint64_t> position_of(const Metadata& m) {
  auto it = m.find(std::string(kPosition));
  if (it == m.end()) return std::nullopt;
  if (const auto* v = std::get_if<int64_t>(&it->second); v != nullptr && *v >= 0) {
    return static_cast<uint64_t>(*v);
  }
  return std::nullopt;
}

// The library's dimension changed between validation and the writer lock.
Status dimension_changed(const Library& lib) {
  return Status::conflict("the library's dimension changed to " + std::to_string(lib.dimension) +
                          " while the request was processed");
}

}  // namespace

Status DatabaseImpl::prepare_chunks(LibraryState& st, const std::string& doc_id,
                                    const DocState& doc, const std::vector<ChunkInput>& in,
                                    std::vector<std::vector<float>>& embedded,
                                    std::string_view prefix, TimestampMs now,
                                    storage::Batch& batch, PreparedChunks& out) {
  out.clear();
  out.reserve(in.size());
  uint64_t next_position = doc.next_position();
  for (std::size_t i = 0; i < in.size(); ++i) {
    PreparedChunk p;
    Chunk& c = p.rec.chunk;
    c.id = in[i].id.value_or(new_uuid_v4());
    if (st.chunks.count(c.id) != 0) {
      std::string field = std::string(prefix) + "[" + std::to_string(i) + "].id";
      return Status::already_exists("chunk '" + c.id + "' already exists",
                                    {{std::move(field), "already exists"}});
    }
    p.embedding = in[i].embedding ? *in[i].embedding : std::move(embedded[i]);
    if (p.embedding.size() != st.library.dimension) return dimension_changed(st.library);
    c.library_id = st.library.id;
    c.document_id = doc_id;
    c.text = in[i].text.value_or("");
    c.metadata = in[i].metadata;
    // Absent positions continue after the largest one so far, request order included.
    const uint64_t position = position_of(c.metadata).value_or(next_position);
    next_position = std::max(next_position, position + 1);
    c.metadata[std::string(kPosition)] = static_cast<int64_t>(position);
    c.created_at = c.updated_at = now;
    c.version = 1;
    p.rec.position = position;
    p.rec.seq = next_seq();
    p.rec.embedding_bytes = codec::float_bytes(p.embedding);
    batch.put(kCfChunks, codec::lib_key(c.library_id, c.id), codec::encode_chunk(p.rec));
    batch.put(kCfChunkOrder, codec::chunk_order_key(c.library_id, doc_id, position, p.rec.seq),
              c.id);
    p.rec.embedding_bytes = {};  // would dangle once `out` reallocates
    out.push_back(std::move(p));
  }
  return Status::ok();
}

void DatabaseImpl::apply_chunks(LibraryState& st, const std::string& doc_id,
                                PreparedChunks& prepared) {
  DocState& doc = st.documents.at(doc_id);
  for (auto& p : prepared) {
    ChunkLoc loc = append_row(st, p.embedding.data(), p.rec.chunk.id);
    loc.document_id = doc_id;
    loc.position = p.rec.position;
    loc.seq = p.rec.seq;
    doc.chunks.insert(p.rec.chunk.id);
    doc.add_position(p.rec.position);
    st.chunks.emplace(p.rec.chunk.id, std::move(loc));
  }
}

Result<std::vector<Chunk>> DatabaseImpl::create_chunks(std::string_view library_id,
                                                       std::string_view document_id,
                                                       const std::vector<ChunkInput>& in) {
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));
  const auto snap = st->load();
  std::vector<FieldError> errors;
  validate_chunk_inputs(in, snap->library, "chunks", errors, ChunkCount::kOneOrMore);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));
  std::vector<std::vector<float>> embedded;
  QUIVER_RETURN_IF_ERROR(embed_missing(snap->library, in, embedded));

  std::lock_guard writer(st->writer_mu);
  if (st->dropped) return library_gone(library_id);
  const std::string doc_id(document_id);
  auto doc = st->documents.find(doc_id);
  if (doc == st->documents.end()) {
    return Status::not_found("document '" + doc_id + "' does not exist");
  }
  QUIVER_ASSIGN_OR_RETURN(auto doc_rec, read_document(library_id, doc_id, nullptr));
  auto batch = db_->batch();
  PreparedChunks prepared;
  QUIVER_RETURN_IF_ERROR(
      prepare_chunks(*st, doc_id, doc->second, in, embedded, "chunks", now_ms(), batch, prepared));
  // The document's chunk_count changes with its chunks; its version does not (adding chunks
  // is not a change of the document's own fields).
  doc_rec.document.chunk_count += prepared.size();
  batch.put(kCfDocuments, codec::lib_key(library_id, doc_id), codec::encode_document(doc_rec));
  QUIVER_RETURN_IF_ERROR(commit(batch));

  apply_chunks(*st, doc_id, prepared);
  publish(*st, st->seq + 1);
  std::vector<Chunk> out;
  out.reserve(prepared.size());
  for (auto& p : prepared) out.push_back(std::move(p.rec.chunk));
  return out;
}

Result<Page<Chunk>> DatabaseImpl::list_chunks(std::string_view library_id,
                                              std::string_view document_id,
                                              const PageRequest& page) {
  std::vector<FieldError> errors;
  validate_page(page, errors);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));
  QUIVER_ASSIGN_OR_RETURN(auto snap, find_snapshot(library_id));
  QUIVER_RETURN_IF_ERROR(read_document(library_id, document_id, snap->read.get()).status());
  const std::string prefix = codec::chunk_order_prefix(library_id, document_id);
  std::string start = prefix;
  if (!page.cursor.empty()) {
    QUIVER_ASSIGN_OR_RETURN(std::string last, decode_cursor(page.cursor, prefix, 17));
    start = last + std::string(1, '\0');
  }
  Page<Chunk> out;
  std::string last_key;
  bool more = false;
  Status inner;
  std::string buffer;
  QUIVER_RETURN_IF_ERROR(db_->scan(
      kCfChunkOrder, start, storage::prefix_upper_bound(prefix), snap->read.get(),
      [&](std::string_view key, std::string_view chunk_id) {
        if (out.items.size() == page.limit) {
          more = true;
          return false;
        }
        auto rec = read_chunk(library_id, chunk_id, snap->read.get(), buffer);
        if (!rec.is_ok()) {
          inner = rec.status().code() == StatusCode::kNotFound
                      ? Status::corruption("chunk order key without its record")
                      : rec.status();
          return false;
        }
        out.items.push_back(std::move(rec->chunk));
        last_key = std::string(key);
        return true;
      }));
  QUIVER_RETURN_IF_ERROR(inner);
  if (more) out.next_cursor = encode_cursor(last_key);
  return out;
}

Result<Chunk> DatabaseImpl::get_chunk(std::string_view library_id, std::string_view chunk_id,
                                      bool with_embedding) {
  QUIVER_ASSIGN_OR_RETURN(auto snap, find_snapshot(library_id));
  std::string buffer;
  QUIVER_ASSIGN_OR_RETURN(auto rec, read_chunk(library_id, chunk_id, snap->read.get(), buffer));
  if (with_embedding) rec.chunk.embedding = rec.embedding_floats();
  return std::move(rec.chunk);
}

Result<Chunk> DatabaseImpl::update_chunk(std::string_view library_id, std::string_view chunk_id,
                                         const ChunkPatch& in, IfMatch if_match) {
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));
  const auto snap = st->load();
  std::vector<FieldError> errors;
  validate_chunk_patch(in, snap->library, errors);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));
  std::optional<std::vector<float>> embedding = in.embedding;
  if (!embedding && in.text && snap->library.embedder) {
    QUIVER_ASSIGN_OR_RETURN(auto v, embed_texts(*snap->library.embedder, {*in.text},
                                                embed::InputType::kDocument));
    embedding = std::move(v[0]);
  }

  std::lock_guard writer(st->writer_mu);
  if (st->dropped) return library_gone(library_id);
  auto loc_it = st->chunks.find(std::string(chunk_id));
  if (loc_it == st->chunks.end()) {
    return Status::not_found("chunk '" + std::string(chunk_id) + "' does not exist");
  }
  ChunkLoc& loc = loc_it->second;
  std::string buffer;
  QUIVER_ASSIGN_OR_RETURN(auto rec, read_chunk(library_id, chunk_id, nullptr, buffer));
  Chunk& c = rec.chunk;
  QUIVER_RETURN_IF_ERROR(check_version(if_match, c.version, "chunk"));
  if (embedding && embedding->size() != st->library.dimension) {
    return dimension_changed(st->library);
  }
  if (in.text) c.text = *in.text;
  if (in.metadata) {
    c.metadata = apply_metadata_patch(c.metadata, *in.metadata);
    // `position` is always present: removing it keeps the current one.
    if (!position_of(c.metadata)) c.metadata[std::string(kPosition)] = static_cast<int64_t>(loc.position);
  }
  const uint64_t old_position = loc.position;
  const uint64_t new_position = *position_of(c.metadata);
  c.version += 1;
  c.updated_at = std::max(now_ms(), c.updated_at);
  rec.position = new_position;
  std::vector<float> old_embedding;
  if (!embedding) {
    old_embedding = rec.embedding_floats();  // `buffer` is reused below; keep a copy
  }
  const std::vector<float>& vec = embedding ? *embedding : old_embedding;
  rec.embedding_bytes = codec::float_bytes(vec);

  auto batch = db_->batch();
  batch.put(kCfChunks, codec::lib_key(library_id, c.id), codec::encode_chunk(rec));
  if (new_position != old_position) {
    batch.del(kCfChunkOrder, codec::chunk_order_key(library_id, loc.document_id, old_position, loc.seq));
    batch.put(kCfChunkOrder, codec::chunk_order_key(library_id, loc.document_id, new_position, loc.seq),
              c.id);
  }
  QUIVER_RETURN_IF_ERROR(commit(batch));

  const uint64_t seq = st->seq + 1;
  if (embedding) {
    // Update = delete the old row + append the new one, both visible from snapshot `seq`.
    ChunkLoc fresh = append_row(*st, embedding->data(), c.id);
    mark_deleted(*st, loc, seq);
    loc.segment = fresh.segment;
    loc.row = fresh.row;
  }
  if (new_position != old_position) {
    DocState& doc = st->documents.at(loc.document_id);
    doc.remove_position(old_position);
    doc.add_position(new_position);
    loc.position = new_position;
  }
  publish(*st, seq);
  return std::move(c);
}

Status DatabaseImpl::delete_chunk(std::string_view library_id, std::string_view chunk_id,
                                  IfMatch if_match) {
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));
  std::lock_guard writer(st->writer_mu);
  if (st->dropped) return library_gone(library_id);
  auto loc_it = st->chunks.find(std::string(chunk_id));
  if (loc_it == st->chunks.end()) {
    return Status::not_found("chunk '" + std::string(chunk_id) + "' does not exist");
  }
  const ChunkLoc loc = loc_it->second;
  std::string buffer;
  QUIVER_ASSIGN_OR_RETURN(auto rec, read_chunk(library_id, chunk_id, nullptr, buffer));
  QUIVER_RETURN_IF_ERROR(check_version(if_match, rec.chunk.version, "chunk"));
  QUIVER_ASSIGN_OR_RETURN(auto doc_rec, read_document(library_id, loc.document_id, nullptr));
  doc_rec.document.chunk_count -= 1;

  auto batch = db_->batch();
  batch.del(kCfChunks, codec::lib_key(library_id, chunk_id));
  batch.del(kCfChunkOrder, codec::chunk_order_key(library_id, loc.document_id, loc.position, loc.seq));
  batch.put(kCfDocuments, codec::lib_key(library_id, loc.document_id),
            codec::encode_document(doc_rec));
  QUIVER_RETURN_IF_ERROR(commit(batch));

  const uint64_t seq = st->seq + 1;
  mark_deleted(*st, loc, seq);
  DocState& doc = st->documents.at(loc.document_id);
  doc.chunks.erase(loc_it->first);
  doc.remove_position(loc.position);
  st->chunks.erase(loc_it);
  publish(*st, seq);
  return Status::ok();
}

}  // namespace quiver::engine
