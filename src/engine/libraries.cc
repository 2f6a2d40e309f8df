// Library CRUD, index status and rebuild.
#include <filesystem>
#include <mutex>

#include "common/ids.h"
#include "common/time.h"
#include "engine/database_impl.h"
#include "engine/schema.h"
#include "engine/segment_manifest.h"
#include "engine/validate.h"
#include "index/registry.h"

namespace quiver::engine {

namespace {

Status check_if_match(IfMatch if_match, uint64_t version, std::string_view what) {
  if (if_match && *if_match != version) {
    return Status::precondition_failed(std::string(what) + " is at version " +
                                       std::to_string(version) + ", not " +
                                       std::to_string(*if_match));
  }
  return Status::ok();
}

}  // namespace

Status check_version(IfMatch if_match, uint64_t version, std::string_view what) {
  return check_if_match(if_match, version, what);
}

Result<LibraryView> DatabaseImpl::create_library(const LibraryCreate& in) {
  std::vector<FieldError> errors;
  validate_library_create(in, errors);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));
  QUIVER_ASSIGN_OR_RETURN(
      IndexConfig index,
      index::normalize_index_config(in.index.value_or(index::default_index_config()), "index"));

  codec::LibraryRecord rec;
  Library& lib = rec.library;
  lib.id = in.id.value_or(new_uuid_v4());
  lib.name = in.name;
  lib.description = in.description;
  lib.dimension = in.dimension ? *in.dimension : (in.embedder ? in.embedder->dimension : 0);
  lib.metric = in.metric.value_or(Metric::kCosine);
  lib.index = std::move(index);
  lib.embedder = in.embedder;
  lib.metadata = in.metadata;
  lib.created_at = lib.updated_at = now_ms();
  lib.version = 1;

  // catalog_mu_ is held across the write so that no other create/rename can take the name
  // between the check and the commit; readers use mu_ and never wait for this I/O.
  std::lock_guard catalog(catalog_mu_);
  {
    std::shared_lock lock(mu_);
    if (libs_.count(lib.id) != 0) {
      return Status::already_exists("library '" + lib.id + "' already exists",
                                    {{"id", "already exists"}});
    }
    if (names_.count(lib.name) != 0) {
      return Status::already_exists("a library named '" + lib.name + "' already exists",
                                    {{"name", "already exists"}});
    }
  }
  rec.seq = next_seq();
  auto batch = db_->batch();
  batch.put(kCfLibraries, lib.id, codec::encode_library(rec));
  batch.put(kCfLibraryOrder, codec::library_order_key(rec.seq), lib.id);
  QUIVER_RETURN_IF_ERROR(commit(batch));

  auto st = std::make_shared<LibraryState>();
  std::shared_ptr<const Snapshot> snap;
  {
    std::lock_guard writer(st->writer_mu);
    st->library = lib;
    st->library_seq = rec.seq;
    SegmentEntry e;
    e.appendable = std::make_shared<AppendableSegment>(lib.dimension, kSegmentBlocks);
    st->active = next_segment_id_.fetch_add(1);
    st->segments.emplace(st->active, std::move(e));
    publish(*st, 1);
    snap = st->load();
  }
  {
    std::unique_lock lock(mu_);
    names_[lib.name] = lib.id;
    libs_[lib.id] = st;
  }
  return make_view(*snap);
}

Result<Page<LibraryView>> DatabaseImpl::list_libraries(const PageRequest& page) {
  std::vector<FieldError> errors;
  validate_page(page, errors);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));
  std::string start;
  if (!page.cursor.empty()) {
    QUIVER_ASSIGN_OR_RETURN(std::string last, decode_cursor(page.cursor, "", 8));
    start = last + std::string(1, '\0');  // the smallest key after `last`
  }
  Page<LibraryView> out;
  std::string last_key;
  bool more = false;
  const auto snap = db_->snapshot();
  QUIVER_RETURN_IF_ERROR(db_->scan(
      kCfLibraryOrder, start, "", snap.get(), [&](std::string_view key, std::string_view id) {
        auto st = find(id);
        if (!st.is_ok()) return true;  // deleted since the scan's snapshot
        auto lib_snap = (*st)->load();
        // Deleted and re-created under the same id since: it is listed at its new key.
        if (lib_snap->library_seq != codec::get_be64(key)) return true;
        if (out.items.size() == page.limit) {
          more = true;
          return false;
        }
        out.items.push_back(make_view(*lib_snap));
        last_key = std::string(key);
        return true;
      }));
  if (more) out.next_cursor = encode_cursor(last_key);
  return out;
}

Result<LibraryView> DatabaseImpl::get_library(std::string_view library_id) {
  QUIVER_ASSIGN_OR_RETURN(auto snap, find_snapshot(library_id));
  return make_view(*snap);
}

Result<LibraryView> DatabaseImpl::update_library(std::string_view library_id,
                                                 const LibraryPatch& in, IfMatch if_match) {
  std::vector<FieldError> errors;
  validate_library_patch(in, errors);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));
  std::optional<IndexConfig> index;
  if (in.index) {
    QUIVER_ASSIGN_OR_RETURN(index, index::normalize_index_config(*in.index, "index"));
  }
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));

  // A rename needs the catalog lock (name uniqueness); it is taken before writer_mu.
  std::unique_lock<std::mutex> catalog;
  if (in.name) catalog = std::unique_lock(catalog_mu_);
  std::lock_guard writer(st->writer_mu);
  if (st->dropped) return Status::not_found("library '" + std::string(library_id) + "' does not exist");
  QUIVER_RETURN_IF_ERROR(check_if_match(if_match, st->library.version, "library"));

  Library lib = st->library;
  const bool rename = in.name && *in.name != lib.name;
  if (rename) {
    std::shared_lock lock(mu_);
    if (names_.count(*in.name) != 0) {
      return Status::already_exists("a library named '" + *in.name + "' already exists",
                                    {{"name", "already exists"}});
    }
  }
  const bool dim_change = in.dimension && *in.dimension != lib.dimension;
  const bool metric_change = in.metric && *in.metric != lib.metric;
  if ((dim_change || metric_change) && !st->chunks.empty()) {
    std::vector<FieldError> f;
    if (dim_change) f.push_back({"dimension", "cannot change while the library holds chunks"});
    if (metric_change) f.push_back({"metric", "cannot change while the library holds chunks"});
    return Status::conflict("dimension and metric can change only while the library holds no chunk",
                            std::move(f));
  }
  if (lib.embedder && dim_change && *in.dimension != lib.embedder->dimension) {
    return Status::invalid_field("dimension", "must equal the embedder's dimension (" +
                                                  std::to_string(lib.embedder->dimension) + ")");
  }
  if (in.name) lib.name = *in.name;
  if (in.description) lib.description = *in.description;
  if (in.dimension) lib.dimension = *in.dimension;
  if (in.metric) lib.metric = *in.metric;
  if (index) lib.index = *index;
  if (in.metadata) lib.metadata = apply_metadata_patch(lib.metadata, *in.metadata);
  lib.version += 1;
  lib.updated_at = std::max(now_ms(), lib.updated_at);

  codec::LibraryRecord rec{lib, st->library_seq};
  auto batch = db_->batch();
  batch.put(kCfLibraries, lib.id, codec::encode_library(rec));
  if (dim_change) {
    const std::string lo = manifest::library_prefix(lib.id);
    batch.delete_range(kCfMeta, lo, storage::prefix_upper_bound(lo));
  }
  QUIVER_RETURN_IF_ERROR(commit(batch));

  if (rename) {
    std::unique_lock lock(mu_);
    names_.erase(st->library.name);
    names_[lib.name] = lib.id;
  }
  if (dim_change) {
    // No chunk is live, so the old segments hold only deleted rows: start afresh. Readers of
    // older snapshots keep the old segments alive through their SegmentRefs.
    // Their index files are removed at the next start-up (unreferenced).
    st->cancel_rewrites();
    st->segments.clear();
    SegmentEntry e;
    e.appendable = std::make_shared<AppendableSegment>(lib.dimension, kSegmentBlocks);
    st->active = next_segment_id_.fetch_add(1);
    st->segments.emplace(st->active, std::move(e));
  }
  const bool reindex = index && *index != st->library.index;
  st->library = std::move(lib);
  if (reindex) request_reindex(*st, /*force=*/false);
  publish(*st, st->seq + 1);
  return make_view(*st->load());
}

Status DatabaseImpl::delete_library(std::string_view library_id, IfMatch if_match) {
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));
  std::lock_guard catalog(catalog_mu_);
  std::lock_guard writer(st->writer_mu);
  if (st->dropped) return Status::not_found("library '" + std::string(library_id) + "' does not exist");
  QUIVER_RETURN_IF_ERROR(check_if_match(if_match, st->library.version, "library"));

  const std::string& id = st->library.id;
  const std::string lo = codec::lib_prefix(id);
  const std::string hi = storage::prefix_upper_bound(lo);  // id '\1'
  auto batch = db_->batch();
  batch.del(kCfLibraries, id);
  batch.del(kCfLibraryOrder, codec::library_order_key(st->library_seq));
  for (storage::Cf cf : {kCfDocuments, kCfDocumentOrder, kCfChunks, kCfChunkOrder}) {
    batch.delete_range(cf, lo, hi);
  }
  const std::string mlo = manifest::library_prefix(id);
  batch.delete_range(kCfMeta, mlo, storage::prefix_upper_bound(mlo));
  QUIVER_RETURN_IF_ERROR(commit(batch));

  st->dropped = true;
  st->cancel_rewrites();
  {
    std::unique_lock lock(mu_);
    names_.erase(st->library.name);
    libs_.erase(id);
  }
  // After the commit: a crash before this leaves files that start-up removes. A rewrite
  // still saving into the directory deletes its own file when it sees `dropped`.
  std::error_code ec;
  std::filesystem::remove_all(index_dir(id), ec);
  notify_progress();  // rebuild_index(wait) callers return
  // In-flight searches keep their Snapshot (and its segments) alive until they finish.
  return Status::ok();
}

Result<IndexStatus> DatabaseImpl::index_status(std::string_view library_id) {
  QUIVER_ASSIGN_OR_RETURN(auto snap, find_snapshot(library_id));
  return make_index_status(*snap);
}

Result<IndexStatus> DatabaseImpl::rebuild_index(std::string_view library_id,
                                                const std::optional<IndexConfig>& config,
                                                bool wait) {
  std::optional<IndexConfig> normalized;
  if (config) {
    QUIVER_ASSIGN_OR_RETURN(normalized, index::normalize_index_config(*config, "index"));
  }
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));
  IndexConfig target;
  {
    std::lock_guard writer(st->writer_mu);
    if (st->dropped) {
      return Status::not_found("library '" + std::string(library_id) + "' does not exist");
    }
    uint64_t seq = st->seq;
    if (normalized && *normalized != st->library.index) {
      Library lib = st->library;
      lib.index = *normalized;
      lib.version += 1;
      lib.updated_at = std::max(now_ms(), lib.updated_at);
      auto batch = db_->batch();
      batch.put(kCfLibraries, lib.id, codec::encode_library({lib, st->library_seq}));
      QUIVER_RETURN_IF_ERROR(commit(batch));
      st->library = std::move(lib);
      seq += 1;
    }
    // An explicit rebuild rebuilds every sealed segment, even those already current.
    request_reindex(*st, /*force=*/true);
    target = st->library.index;
    publish(*st, seq);
  }
  if (wait) wait_indexed(st, target);
  return make_index_status(*st->load());
}

}  // namespace quiver::engine
