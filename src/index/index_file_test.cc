#include "index/index_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/crc32c.h"

namespace quiver::index {
namespace {

const IndexFileIdentity kId{"hnsw", Metric::kCosine, 1234, 768};

IndexFileWriter sample_writer() {
  IndexFileWriter w(kId);
  w.write<uint32_t>(0xDEADBEEF);
  w.write<double>(2.5);
  w.write_vector(std::vector<uint32_t>{1, 2, 3, 4, 5});
  w.write_vector(std::vector<float>{0.5f, -1.0f});
  w.write_bytes("xyz", 3);
  return w;
}

class IndexFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("quiver_index_file_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

void expect_sample_payload(IndexFileReader& r) {
  uint32_t a = 0;
  double b = 0;
  std::vector<uint32_t> c;
  std::vector<float> d;
  char e[3];
  ASSERT_TRUE(r.read(a).is_ok());
  ASSERT_TRUE(r.read(b).is_ok());
  ASSERT_TRUE(r.read_vector(c).is_ok());
  ASSERT_TRUE(r.read_vector(d).is_ok());
  ASSERT_TRUE(r.read_bytes(e, 3).is_ok());
  EXPECT_EQ(a, 0xDEADBEEF);
  EXPECT_EQ(b, 2.5);
  EXPECT_EQ(c, (std::vector<uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(d, (std::vector<float>{0.5f, -1.0f}));
  EXPECT_EQ(std::string(e, 3), "xyz");
  EXPECT_TRUE(r.expect_end().is_ok());
  // Past the end: an error value, not a crash.
  EXPECT_EQ(r.read(a).code(), StatusCode::kCorruption);
}

TEST_F(IndexFileTest, RoundTripThroughDisk) {
  const std::string p = path("a.idx");
  ASSERT_TRUE(sample_writer().commit(p).is_ok());
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
  auto r = IndexFileReader::open(p, kId);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->format_version(), kIndexFileVersion);
  expect_sample_payload(*r);
  // Overwriting an existing file replaces it whole.
  IndexFileWriter empty(kId);
  ASSERT_TRUE(empty.commit(p).is_ok());
  auto r2 = IndexFileReader::open(p, kId);
  ASSERT_TRUE(r2.is_ok());
  EXPECT_EQ(r2->remaining(), 0u);
}

TEST_F(IndexFileTest, EveryFlippedByteIsCorruption) {
  const std::vector<uint8_t> good = sample_writer().serialize();
  ASSERT_TRUE(IndexFileReader::from_bytes(good, kId).is_ok());
  // Covers every header field, every payload byte and both trailer fields.
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::vector<uint8_t> bad = good;
      bad[i] ^= mask;
      auto r = IndexFileReader::from_bytes(bad, kId);
      ASSERT_FALSE(r.is_ok()) << "byte " << i;
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << "byte " << i;
    }
  }
}

TEST_F(IndexFileTest, FlipOnDiskIsCorruption) {
  const std::string p = path("b.idx");
  ASSERT_TRUE(sample_writer().commit(p).is_ok());
  const auto size = std::filesystem::file_size(p);
  for (std::size_t pos : {std::size_t{9}, std::size_t{70}, static_cast<std::size_t>(size - 2)}) {
    ASSERT_TRUE(sample_writer().commit(p).is_ok());
    {
      std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(pos));
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x10);
      f.seekp(static_cast<std::streamoff>(pos));
      f.write(&c, 1);
    }
    EXPECT_EQ(IndexFileReader::open(p, kId).status().code(), StatusCode::kCorruption) << pos;
  }
}

TEST_F(IndexFileTest, TruncationAndExtensionAreCorruption) {
  const std::vector<uint8_t> good = sample_writer().serialize();
  for (std::size_t len = 0; len < good.size(); ++len) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_EQ(IndexFileReader::from_bytes(cut, kId).status().code(), StatusCode::kCorruption)
        << len;
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_EQ(IndexFileReader::from_bytes(longer, kId).status().code(), StatusCode::kCorruption);
  // Truncated on disk too.
  const std::string p = path("c.idx");
  ASSERT_TRUE(sample_writer().commit(p).is_ok());
  std::filesystem::resize_file(p, good.size() - 5);
  EXPECT_EQ(IndexFileReader::open(p, kId).status().code(), StatusCode::kCorruption);
}

TEST_F(IndexFileTest, IdentityMismatchIsCorruption) {
  const std::vector<uint8_t> good = sample_writer().serialize();
  for (IndexFileIdentity other :
       {IndexFileIdentity{"ivf", kId.metric, kId.rows, kId.dim},
        IndexFileIdentity{"hnswx", kId.metric, kId.rows, kId.dim},
        IndexFileIdentity{kId.type, Metric::kL2, kId.rows, kId.dim},
        IndexFileIdentity{kId.type, kId.metric, kId.rows + 1, kId.dim},
        IndexFileIdentity{kId.type, kId.metric, kId.rows, kId.dim - 1}}) {
    EXPECT_EQ(IndexFileReader::from_bytes(good, other).status().code(), StatusCode::kCorruption)
        << other.type;
  }
}

TEST_F(IndexFileTest, BoundedReads) {
  IndexFileWriter w(kId);
  w.write<uint64_t>(uint64_t{1} << 60);  // a vector count far larger than the payload
  w.write<uint32_t>(7);
  auto r = IndexFileReader::from_bytes(w.serialize(), kId);
  ASSERT_TRUE(r.is_ok());
  std::vector<float> v;
  EXPECT_EQ(r->read_vector(v).code(), StatusCode::kCorruption);
  auto r2 = IndexFileReader::from_bytes(w.serialize(), kId);
  ASSERT_TRUE(r2.is_ok());
  uint64_t skip = 0;
  ASSERT_TRUE(r2->read(skip).is_ok());
  EXPECT_EQ(r2->expect_end().code(), StatusCode::kCorruption);  // 4 bytes unread
  std::vector<uint32_t> small;
  auto r3 = IndexFileReader::from_bytes(w.serialize(), kId);
  EXPECT_EQ(r3->read_vector(small, 10).code(), StatusCode::kCorruption);  // over max_count
}

// Pins format version 1 byte for byte, independently of the writer: a file laid out by
// hand from docs/index_file_format.md must load. If this fails, the format changed.
TEST_F(IndexFileTest, HandWrittenVersion1FileLoads) {
  std::vector<uint8_t> f(64, 0);
  std::memcpy(f.data(), "QUIVERIX", 8);
  auto put32 = [&](std::size_t at, uint32_t v) { std::memcpy(f.data() + at, &v, 4); };
  auto put64 = [&](std::size_t at, uint64_t v) { std::memcpy(f.data() + at, &v, 8); };
  put32(8, 1);    // version
  put32(12, 64);  // header size
  std::memcpy(f.data() + 16, "flat", 4);
  put32(32, 2);  // l2
  put32(36, 3);  // dim
  put64(40, 10);  // rows
  put64(48, 4);   // payload length
  for (uint8_t b : {0xAA, 0xBB, 0xCC, 0xDD}) f.push_back(b);
  const uint32_t crc = crc32c(f.data(), f.size());
  f.resize(f.size() + 4);
  std::memcpy(f.data() + 68, &crc, 4);
  for (char c : std::string("QEND")) f.push_back(static_cast<uint8_t>(c));
  auto r = IndexFileReader::from_bytes(f, {"flat", Metric::kL2, 10, 3});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  uint32_t payload = 0;
  ASSERT_TRUE(r->read(payload).is_ok());
  EXPECT_EQ(payload, 0xDDCCBBAAu);
  // And the writer produces exactly these bytes.
  IndexFileWriter w({"flat", Metric::kL2, 10, 3});
  w.write<uint32_t>(0xDDCCBBAAu);
  EXPECT_EQ(w.serialize(), f);
}

TEST_F(IndexFileTest, IoErrors) {
  EXPECT_EQ(IndexFileReader::open(path("missing.idx"), kId).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(sample_writer().commit(path("no/such/dir/x.idx")).code(), StatusCode::kIOError);
  IndexFileWriter long_name({"a-type-name-that-is-too-long", Metric::kL2, 1, 1});
  EXPECT_EQ(long_name.commit(path("d.idx")).code(), StatusCode::kInternal);
  EXPECT_FALSE(std::filesystem::exists(path("d.idx")));
}

}  // namespace
}  // namespace quiver::index
