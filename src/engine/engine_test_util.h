// Test helpers shared by the engine tests: a Database in a fresh temporary directory.
// Thread-safety: test-only; one fixture per test.
#pragma once

// GCC 12 at -O3 reports a false -Wrestrict inside std::string for `"lit" + std::to_string(n)`
// (GCC bug 105329); tests build such ids everywhere.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/database.h"

namespace quiver::engine::testing {

class EngineFixture : public ::testing::Test {
 public:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("quiver_engine_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    open();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    Options o;
    o.data_dir = dir_.string();
    o.durability = Durability::kOs;
    o.block_cache_bytes = 8 << 20;
    configure(o);
    auto r = Database::open(o);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    db_ = std::move(r).value();
  }
  // Tests override this to change options (seal threshold, optimizer tick, ...).
  virtual void configure(Options& o) { (void)o; }
  void reopen() {
    db_.reset();
    open();
  }

  LibraryView make_library(const std::string& name, uint32_t dim, Metric metric = Metric::kL2,
                           std::optional<std::string> id = std::nullopt) {
    LibraryCreate in;
    in.id = std::move(id);
    in.name = name;
    in.dimension = dim;
    in.metric = metric;
    in.index = IndexConfig{"flat", {}};
    auto r = db_->create_library(in);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : LibraryView{};
  }

  static ChunkInput chunk(std::optional<std::string> id, std::vector<float> v,
                          std::string text = "text", std::optional<int64_t> position = {}) {
    ChunkInput c;
    c.id = std::move(id);
    c.text = std::move(text);
    c.embedding = std::move(v);
    if (position) c.metadata["position"] = *position;
    return c;
  }

  Document make_document(const std::string& lib, const std::string& id,
                         std::vector<ChunkInput> chunks = {}) {
    DocumentCreate in;
    in.id = id;
    in.title = "title " + id;
    in.chunks = std::move(chunks);
    auto r = db_->create_document(lib, in);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : Document{};
  }

  // Polls until the library's optimizer work is done (index_status "ready"). Bounded by a
  // number of polls, not asserted as a time.
  bool wait_ready(const std::string& lib, int polls = 6000) {
    for (int i = 0; i < polls; ++i) {
      auto st = db_->index_status(lib);
      if (!st.is_ok()) return false;
      if (st->state == "ready") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static std::vector<float> random_vector(std::mt19937& rng, uint32_t dim) {
    std::normal_distribution<float> n(0.0f, 1.0f);
    std::vector<float> v(dim);
    for (auto& x : v) x = n(rng);
    return v;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

}  // namespace quiver::engine::testing
