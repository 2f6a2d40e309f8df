// storage::Db: a thin RocksDB wrapper that knows nothing about libraries or documents.
//
// It opens one RocksDB instance with a fixed list of named column families (created when
// missing), writes atomic batches honouring the durability setting, and reads with point
// gets and ordered range scans, optionally at a ReadSnapshot. Every rocksdb::Status is
// translated into a quiver::Status in exactly one place (rocks_status.h).
//
// Thread-safety: Db is safe for concurrent use by any number of threads (RocksDB is).
// A Batch is a plain value owned by one thread. A ReadSnapshot is immutable and may be
// shared between threads; every ReadSnapshot must be destroyed before its Db is closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace quiver::storage {

// Index of a column family in DbOptions::column_families.
using Cf = uint32_t;

struct DbOptions {
  std::string path;
  // Names of the column families, in the order Cf indexes them. "default" is always opened
  // as well (RocksDB requires it) but is not addressable unless listed.
  std::vector<std::string> column_families;
  bool sync = true;  // fsync every write (WriteOptions::sync)
  std::size_t block_cache_bytes = 256u << 20;
};

// A consistent point-in-time view of the whole database (every column family).
class ReadSnapshot {
 public:
  ReadSnapshot(rocksdb::DB* db, const rocksdb::Snapshot* snap) : db_(db), snap_(snap) {}
  ~ReadSnapshot();
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  const rocksdb::Snapshot* get() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};
using ReadSnapshotPtr = std::shared_ptr<const ReadSnapshot>;

class Db;

// An atomic group of writes across column families. Built by Db::batch().
class Batch {
 public:
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  void put(Cf cf, std::string_view key, std::string_view value);
  void del(Cf cf, std::string_view key);
  // Deletes every key in [begin, end).
  void delete_range(Cf cf, std::string_view begin, std::string_view end);
  std::size_t count() const;

 private:
  friend class Db;
  explicit Batch(const Db* db);
  const Db* db_;
  std::unique_ptr<rocksdb::WriteBatch> wb_;
};

// Visitor of a scan: return false to stop early.
using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

class Db {
 public:
  // Opens (creating if needed) the database and every column family of `options`.
  static Result<std::unique_ptr<Db>> open(const DbOptions& options);
  // Closes cleanly (flush, stop background work, close). REQUIRES: no ReadSnapshot alive.
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Batch batch() const { return Batch(this); }
  // Commits `batch` atomically; with DbOptions::sync, returns after it is fsynced.
  Status write(Batch& batch);

  // The value of `key`, or nullopt when absent. At `snap` when given, else the latest.
  Result<std::optional<std::string>> get(Cf cf, std::string_view key,
                                         const ReadSnapshot* snap = nullptr) const;

  // Visits keys in [lower, upper) in order (upper "" = to the end), at `snap` when given.
  // `readahead` > 0 asks for large sequential reads (recovery scans).
  Status scan(Cf cf, std::string_view lower, std::string_view upper, const ReadSnapshot* snap,
              const ScanFn& fn, std::size_t readahead = 0) const;
  // Visits every key starting with `prefix` (non-empty), in order.
  Status scan_prefix(Cf cf, std::string_view prefix, const ReadSnapshot* snap, const ScanFn& fn,
                     std::size_t readahead = 0) const;

  // A snapshot of the current state (every column family).
  ReadSnapshotPtr snapshot() const;

  // Flushes memtables and closes. Called by the destructor when not called before.
  Status close();

 private:
  friend class Batch;
  Db() = default;
  rocksdb::ColumnFamilyHandle* handle(Cf cf) const { return handles_[cf]; }

  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // by Cf
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles_;
  bool sync_ = true;
};

// The smallest key greater than every key that starts with `prefix`; "" when none exists
// (prefix is all 0xff bytes).
std::string prefix_upper_bound(std::string_view prefix);

}  // namespace quiver::storage
