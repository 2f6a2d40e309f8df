#include "storage/db.h"

#include <algorithm>
#include <string>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include "storage/rocks_status.h"

namespace quiver::storage {

Status from_rocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNoSpace()) return Status(StatusCode::kStorageFull, std::move(msg));
  if (s.IsCorruption()) return Status::corruption(std::move(msg));
  return Status::io_error(std::move(msg));
}

std::string prefix_upper_bound(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(out.back());
    if (c != 0xff) {
      ++c;
      return out;
    }
    out.pop_back();
  }
  return out;
}

ReadSnapshot::~ReadSnapshot() {
  if (db_ != nullptr && snap_ != nullptr) db_->ReleaseSnapshot(snap_);
}

// ---- Batch ----------------------------------------------------------------------------------
Batch::Batch(const Db* db) : db_(db), wb_(std::make_unique<rocksdb::WriteBatch>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

void Batch::put(Cf cf, std::string_view key, std::string_view value) {
  // WriteBatch only fails on size overflow (> 4 GiB), which request limits rule out.
  (void)wb_->Put(db_->handle(cf), rocksdb::Slice(key.data(), key.size()),
                 rocksdb::Slice(value.data(), value.size()));
}
void Batch::del(Cf cf, std::string_view key) {
  (void)wb_->Delete(db_->handle(cf), rocksdb::Slice(key.data(), key.size()));
}
void Batch::delete_range(Cf cf, std::string_view begin, std::string_view end) {
  (void)wb_->DeleteRange(db_->handle(cf), rocksdb::Slice(begin.data(), begin.size()),
                         rocksdb::Slice(end.data(), end.size()));
}
std::size_t Batch::count() const { return wb_->Count(); }

// ---- Db -------------------------------------------------------------------------------------
namespace {

rocksdb::ColumnFamilyOptions cf_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Bloom filters make point lookups of absent keys (existence checks) skip data blocks.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  const auto supported = rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) !=
      supported.end()) {
    cf.compression = rocksdb::kLZ4Compression;
  }
  return cf;
}

}  // namespace

Result<std::unique_ptr<Db>> Db::open(const DbOptions& options) {
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.max_background_jobs = 2;
  const rocksdb::ColumnFamilyOptions cfo = cf_options(cache);

  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  descs.emplace_back(rocksdb::kDefaultColumnFamilyName, cfo);
  for (const auto& name : options.column_families) {
    if (name == rocksdb::kDefaultColumnFamilyName) {
      return Status::internal("column family 'default' is implicit");
    }
    descs.emplace_back(name, cfo);
  }
  // Column families created by a newer version would make Open fail; list and open them too
  // so that an older binary can still read what it knows.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(dbo, options.path, &existing).ok()) {
    for (const auto& name : existing) {
      const bool known = std::any_of(descs.begin(), descs.end(),
                                     [&](const auto& d) { return d.name == name; });
      if (!known) descs.emplace_back(name, cfo);
    }
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(dbo, options.path, descs, &handles, &raw);
  if (!s.ok()) return from_rocks(s, "open " + options.path);

  std::unique_ptr<Db> db(new Db());
  db->db_ = raw;
  db->sync_ = options.sync;
  db->all_handles_ = handles;
  db->default_handle_ = handles[0];
  db->handles_.assign(handles.begin() + 1,
                      handles.begin() + 1 + static_cast<long>(options.column_families.size()));
  return db;
}

Db::~Db() { (void)close(); }

Status Db::close() {
  if (db_ == nullptr) return Status::ok();
  Status result;
  rocksdb::FlushOptions fo;
  fo.wait = true;
  result = from_rocks(db_->Flush(fo, all_handles_), "flush");
  rocksdb::CancelAllBackgroundWork(db_, /*wait=*/true);
  for (auto* h : all_handles_) {
    Status st = from_rocks(db_->DestroyColumnFamilyHandle(h), "close column family");
    if (result.is_ok() && !st.is_ok()) result = st;
  }
  all_handles_.clear();
  handles_.clear();
  Status st = from_rocks(db_->Close(), "close");
  if (result.is_ok() && !st.is_ok()) result = st;
  delete db_;
  db_ = nullptr;
  return result;
}

Status Db::write(Batch& batch) {
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return from_rocks(db_->Write(wo, batch.wb_.get()), "write");
}

Result<std::optional<std::string>> Db::get(Cf cf, std::string_view key,
                                           const ReadSnapshot* snap) const {
  rocksdb::ReadOptions ro;
  if (snap != nullptr) ro.snapshot = snap->get();
  std::string value;
  rocksdb::Status s = db_->Get(ro, handle(cf), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_rocks(s, "get");
  return std::optional<std::string>(std::move(value));
}

Status Db::scan(Cf cf, std::string_view lower, std::string_view upper, const ReadSnapshot* snap,
                const ScanFn& fn, std::size_t readahead) const {
  rocksdb::ReadOptions ro;
  if (snap != nullptr) ro.snapshot = snap->get();
  rocksdb::Slice upper_slice(upper.data(), upper.size());
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  if (readahead > 0) {
    ro.readahead_size = readahead;
    ro.fill_cache = false;  // a full scan would evict the hot point-lookup blocks
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handle(cf)));
  for (it->Seek(rocksdb::Slice(lower.data(), lower.size())); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    const rocksdb::Slice v = it->value();
    if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
  }
  return from_rocks(it->status(), "scan");
}

Status Db::scan_prefix(Cf cf, std::string_view prefix, const ReadSnapshot* snap, const ScanFn& fn,
                       std::size_t readahead) const {
  const std::string upper = prefix_upper_bound(prefix);
  return scan(cf, prefix, upper, snap, fn, readahead);
}

ReadSnapshotPtr Db::snapshot() const {
  return std::make_shared<const ReadSnapshot>(db_, db_->GetSnapshot());
}

}  // namespace quiver::storage
