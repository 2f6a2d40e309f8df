#include "storage/db.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/status.h>

#include "storage/rocks_status.h"

namespace quiver::storage {
namespace {

constexpr Cf kA = 0;
constexpr Cf kB = 1;

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("quiver_db_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Db> open_db() {
    DbOptions o;
    o.path = dir_.string();
    o.column_families = {"a", "b"};
    o.block_cache_bytes = 1 << 20;
    auto r = Db::open(o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r).value();
  }
  std::vector<std::string> keys(Db& db, Cf cf, std::string_view prefix,
                                const ReadSnapshot* snap = nullptr) {
    std::vector<std::string> out;
    EXPECT_TRUE(db.scan_prefix(cf, prefix, snap, [&](std::string_view k, std::string_view) {
                      out.emplace_back(k);
                      return true;
                    }).is_ok());
    return out;
  }
  std::filesystem::path dir_;
};

TEST_F(DbTest, WriteGetAndColumnFamiliesAreSeparate) {
  auto db = open_db();
  auto b = db->batch();
  b.put(kA, "k1", "v1");
  b.put(kB, "k1", "other");
  EXPECT_EQ(b.count(), 2u);
  ASSERT_TRUE(db->write(b).is_ok());
  auto v = db->get(kA, "k1");
  ASSERT_TRUE(v.is_ok());
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, "v1");
  EXPECT_EQ(**db->get(kB, "k1"), "other");
  EXPECT_FALSE(db->get(kA, "missing")->has_value());
}

TEST_F(DbTest, PrefixScanIsOrderedAndBounded) {
  auto db = open_db();
  auto b = db->batch();
  const std::vector<std::string> all = {std::string("lib\0b", 5), std::string("lib\0a", 5),
                                        std::string("lib\1z", 5), "lia",
                                        std::string("lib\0c", 5)};
  for (const auto& k : all) b.put(kA, k, "v");
  ASSERT_TRUE(db->write(b).is_ok());
  auto got = keys(*db, kA, std::string("lib\0", 4));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], std::string("lib\0a", 5));
  EXPECT_EQ(got[2], std::string("lib\0c", 5));
  // Early stop.
  int seen = 0;
  ASSERT_TRUE(db->scan(kA, "", "", nullptr, [&](std::string_view, std::string_view) {
                  return ++seen < 2;
                }).is_ok());
  EXPECT_EQ(seen, 2);
}

TEST_F(DbTest, SnapshotIsolation) {
  auto db = open_db();
  auto b = db->batch();
  b.put(kA, "p1", "old");
  ASSERT_TRUE(db->write(b).is_ok());
  auto snap = db->snapshot();
  auto b2 = db->batch();
  b2.put(kA, "p1", "new");
  b2.put(kA, "p2", "added");
  ASSERT_TRUE(db->write(b2).is_ok());
  EXPECT_EQ(**db->get(kA, "p1", snap.get()), "old");
  EXPECT_EQ(**db->get(kA, "p1"), "new");
  EXPECT_EQ(keys(*db, kA, "p", snap.get()).size(), 1u);
  EXPECT_EQ(keys(*db, kA, "p").size(), 2u);
}

TEST_F(DbTest, DeleteAndDeleteRangeAreAtomicWithPuts) {
  auto db = open_db();
  auto b = db->batch();
  for (int i = 0; i < 10; ++i) b.put(kA, std::string(1, 'r') + static_cast<char>('0' + i), "v");
  b.put(kB, "keep", "v");
  ASSERT_TRUE(db->write(b).is_ok());
  auto b2 = db->batch();
  b2.delete_range(kA, "r2", "r5");
  b2.del(kA, "r7");
  b2.put(kB, "new", "v");
  ASSERT_TRUE(db->write(b2).is_ok());
  auto got = keys(*db, kA, "r");
  EXPECT_EQ(got, (std::vector<std::string>{"r0", "r1", "r5", "r6", "r8", "r9"}));
  EXPECT_TRUE(db->get(kB, "new")->has_value());
}

TEST_F(DbTest, ReopenKeepsData) {
  {
    auto db = open_db();
    auto b = db->batch();
    b.put(kB, "durable", "yes");
    ASSERT_TRUE(db->write(b).is_ok());
    ASSERT_TRUE(db->close().is_ok());
  }
  auto db = open_db();
  EXPECT_EQ(**db->get(kB, "durable"), "yes");
}

TEST_F(DbTest, OpenFailureIsTranslated) {
  // A regular file where the directory should be.
  std::filesystem::create_directories(dir_.parent_path());
  { std::ofstream f(dir_); f << "x"; }
  DbOptions o;
  o.path = (dir_ / "sub").string();
  o.column_families = {"a"};
  auto r = Db::open(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  std::filesystem::remove(dir_);
}

TEST(RocksStatus, Translation) {
  EXPECT_TRUE(from_rocks(rocksdb::Status::OK(), "x").is_ok());
  EXPECT_EQ(from_rocks(rocksdb::Status::NoSpace("disk"), "w").code(), StatusCode::kStorageFull);
  EXPECT_EQ(from_rocks(rocksdb::Status::IOError(rocksdb::Status::kNoSpace), "w").code(),
            StatusCode::kStorageFull);
  EXPECT_EQ(from_rocks(rocksdb::Status::Corruption("bad"), "r").code(), StatusCode::kCorruption);
  EXPECT_EQ(from_rocks(rocksdb::Status::IOError("eio"), "r").code(), StatusCode::kIOError);
  EXPECT_EQ(from_rocks(rocksdb::Status::Busy(), "r").code(), StatusCode::kIOError);
}

TEST(PrefixUpperBound, Increments) {
  EXPECT_EQ(prefix_upper_bound(std::string("a\0", 2)), std::string("a\1", 2));
  EXPECT_EQ(prefix_upper_bound("a\xff"), "b");
  EXPECT_EQ(prefix_upper_bound("\xff\xff"), "");
}

}  // namespace
}  // namespace quiver::storage
