// Document CRUD.
#include <mutex>

#include "common/ids.h"
#include "common/time.h"
#include "engine/database_impl.h"
#include "engine/schema.h"
#include "engine/validate.h"

namespace quiver::engine {

namespace {
Status library_gone(std::string_view id) {
  return Status::not_found("library '" + std::string(id) + "' does not exist");
}
Status document_missing(std::string_view id) {
  return Status::not_found("document '" + std::string(id) + "' does not exist");
}
}  // namespace

Result<Document> DatabaseImpl::create_document(std::string_view library_id,
                                               const DocumentCreate& in) {
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));
  const auto snap = st->load();
  std::vector<FieldError> errors;
  validate_document_create(in, snap->library, errors);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));
  // Slow provider calls happen before the writer lock is taken.
  std::vector<std::vector<float>> embedded;
  QUIVER_RETURN_IF_ERROR(embed_missing(snap->library, in.chunks, embedded));

  std::lock_guard writer(st->writer_mu);
  if (st->dropped) return library_gone(library_id);
  codec::DocumentRecord rec;
  Document& doc = rec.document;
  doc.id = in.id.value_or(new_uuid_v4());
  if (st->documents.count(doc.id) != 0) {
    return Status::already_exists("document '" + doc.id + "' already exists",
                                  {{"id", "already exists"}});
  }
  const TimestampMs now = now_ms();
  auto batch = db_->batch();
  PreparedChunks prepared;
  QUIVER_RETURN_IF_ERROR(
      prepare_chunks(*st, doc.id, DocState{}, in.chunks, embedded, "chunks", now, batch, prepared));
  doc.library_id = st->library.id;
  doc.title = in.title;
  doc.metadata = in.metadata;
  doc.created_at = doc.updated_at = now;
  doc.version = 1;
  doc.chunk_count = prepared.size();
  rec.seq = next_seq();
  batch.put(kCfDocuments, codec::lib_key(doc.library_id, doc.id), codec::encode_document(rec));
  batch.put(kCfDocumentOrder, codec::document_order_key(doc.library_id, rec.seq), doc.id);
  QUIVER_RETURN_IF_ERROR(commit(batch));

  st->documents.emplace(doc.id, DocState{});
  apply_chunks(*st, doc.id, prepared);
  publish(*st, st->seq + 1);
  return doc;
}

Result<Page<Document>> DatabaseImpl::list_documents(std::string_view library_id,
                                                    const PageRequest& page) {
  std::vector<FieldError> errors;
  validate_page(page, errors);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));
  QUIVER_ASSIGN_OR_RETURN(auto snap, find_snapshot(library_id));
  const std::string prefix = codec::lib_prefix(library_id);
  std::string start = prefix;
  if (!page.cursor.empty()) {
    QUIVER_ASSIGN_OR_RETURN(std::string last, decode_cursor(page.cursor, prefix, 8));
    start = last + std::string(1, '\0');
  }
  Page<Document> out;
  std::string last_key;
  bool more = false;
  Status inner;
  QUIVER_RETURN_IF_ERROR(db_->scan(
      kCfDocumentOrder, start, storage::prefix_upper_bound(prefix), snap->read.get(),
      [&](std::string_view key, std::string_view doc_id) {
        if (out.items.size() == page.limit) {
          more = true;
          return false;
        }
        auto rec = read_document(library_id, doc_id, snap->read.get());
        if (!rec.is_ok()) {
          // Both keys are written in one batch; a missing record is damage.
          inner = rec.status().code() == StatusCode::kNotFound
                      ? Status::corruption("document order key without its record")
                      : rec.status();
          return false;
        }
        out.items.push_back(std::move(rec->document));
        last_key = std::string(key);
        return true;
      }));
  QUIVER_RETURN_IF_ERROR(inner);
  if (more) out.next_cursor = encode_cursor(last_key);
  return out;
}

Result<Document> DatabaseImpl::get_document(std::string_view library_id,
                                            std::string_view document_id) {
  QUIVER_ASSIGN_OR_RETURN(auto snap, find_snapshot(library_id));
  QUIVER_ASSIGN_OR_RETURN(auto rec, read_document(library_id, document_id, snap->read.get()));
  return std::move(rec.document);
}

Result<Document> DatabaseImpl::update_document(std::string_view library_id,
                                               std::string_view document_id,
                                               const DocumentPatch& in, IfMatch if_match) {
  std::vector<FieldError> errors;
  validate_document_patch(in, errors);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));
  std::lock_guard writer(st->writer_mu);
  if (st->dropped) return library_gone(library_id);
  if (st->documents.count(std::string(document_id)) == 0) return document_missing(document_id);
  QUIVER_ASSIGN_OR_RETURN(auto rec, read_document(library_id, document_id, nullptr));
  Document& doc = rec.document;
  QUIVER_RETURN_IF_ERROR(check_version(if_match, doc.version, "document"));
  if (in.title) doc.title = *in.title;
  if (in.metadata) doc.metadata = apply_metadata_patch(doc.metadata, *in.metadata);
  doc.version += 1;
  doc.updated_at = std::max(now_ms(), doc.updated_at);
  auto batch = db_->batch();
  batch.put(kCfDocuments, codec::lib_key(library_id, doc.id), codec::encode_document(rec));
  QUIVER_RETURN_IF_ERROR(commit(batch));
  publish(*st, st->seq + 1);
  return std::move(doc);
}

Status DatabaseImpl::delete_document(std::string_view library_id, std::string_view document_id,
                                     IfMatch if_match) {
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));
  std::lock_guard writer(st->writer_mu);
  if (st->dropped) return library_gone(library_id);
  auto it = st->documents.find(std::string(document_id));
  if (it == st->documents.end()) return document_missing(document_id);
  QUIVER_ASSIGN_OR_RETURN(auto rec, read_document(library_id, document_id, nullptr));
  QUIVER_RETURN_IF_ERROR(check_version(if_match, rec.document.version, "document"));

  auto batch = db_->batch();
  batch.del(kCfDocuments, codec::lib_key(library_id, document_id));
  batch.del(kCfDocumentOrder, codec::document_order_key(library_id, rec.seq));
  for (const auto& chunk_id : it->second.chunks) {
    const ChunkLoc& loc = st->chunks.at(chunk_id);
    batch.del(kCfChunks, codec::lib_key(library_id, chunk_id));
    batch.del(kCfChunkOrder,
              codec::chunk_order_key(library_id, document_id, loc.position, loc.seq));
  }
  QUIVER_RETURN_IF_ERROR(commit(batch));

  // Every row goes in the same write number, so searches see all of them or none.
  const uint64_t seq = st->seq + 1;
  for (const auto& chunk_id : it->second.chunks) {
    auto loc = st->chunks.find(chunk_id);
    mark_deleted(*st, loc->second, seq);
    st->chunks.erase(loc);
  }
  st->documents.erase(it);
  publish(*st, seq);
  return Status::ok();
}

}  // namespace quiver::engine
