#include "index/index_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "common/crc32c.h"

namespace quiver::index {

static_assert(std::endian::native == std::endian::little,
              "index files are little-endian; add byte swapping before porting");

namespace {

constexpr char kMagic[8] = {'Q', 'U', 'I', 'V', 'E', 'R', 'I', 'X'};
constexpr char kEndMagic[4] = {'Q', 'E', 'N', 'D'};

// Header field offsets (docs/index_file_format.md).
constexpr std::size_t kOffVersion = 8;
constexpr std::size_t kOffHeaderSize = 12;
constexpr std::size_t kOffType = 16;
constexpr std::size_t kOffMetric = 32;
constexpr std::size_t kOffDim = 36;
constexpr std::size_t kOffRows = 40;
constexpr std::size_t kOffPayloadLen = 48;
constexpr std::size_t kOffReserved = 56;

template <typename T>
void put(uint8_t* at, T v) {
  std::memcpy(at, &v, sizeof(T));
}
template <typename T>
T get(const uint8_t* at) {
  T v;
  std::memcpy(&v, at, sizeof(T));
  return v;
}

Status errno_status(const std::string& what, int err) {
  std::string msg = what + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status(StatusCode::kStorageFull, std::move(msg));
  return Status::io_error(std::move(msg));
}

Status write_all(int fd, const uint8_t* data, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno_status("write " + path, errno);
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return Status::ok();
}

Status fsync_dir(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = std::filesystem::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("open directory " + dir.string(), errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return errno_status("fsync directory " + dir.string(), err);
  return Status::ok();
}

Status corrupt(const std::string& why) { return Status::corruption("index file: " + why); }

}  // namespace

uint32_t metric_file_code(Metric m) {
  switch (m) {
    case Metric::kCosine: return 1;
    case Metric::kL2: return 2;
    case Metric::kDot: return 3;
  }
  return 0;
}

IndexFileWriter::IndexFileWriter(IndexFileIdentity identity) : identity_(std::move(identity)) {}

void IndexFileWriter::write_bytes(const void* data, std::size_t n) {
  if (n == 0) return;
  const auto* p = static_cast<const uint8_t*>(data);
  payload_.insert(payload_.end(), p, p + n);
}

std::vector<uint8_t> IndexFileWriter::serialize() const {
  std::vector<uint8_t> out(kIndexFileHeaderSize + payload_.size() + kIndexFileTrailerSize, 0);
  uint8_t* h = out.data();
  std::memcpy(h, kMagic, sizeof(kMagic));
  put<uint32_t>(h + kOffVersion, kIndexFileVersion);
  put<uint32_t>(h + kOffHeaderSize, static_cast<uint32_t>(kIndexFileHeaderSize));
  std::memcpy(h + kOffType, identity_.type.data(),
              std::min(identity_.type.size(), kIndexFileMaxTypeName));
  put<uint32_t>(h + kOffMetric, metric_file_code(identity_.metric));
  put<uint32_t>(h + kOffDim, identity_.dim);
  put<uint64_t>(h + kOffRows, identity_.rows);
  put<uint64_t>(h + kOffPayloadLen, payload_.size());
  put<uint64_t>(h + kOffReserved, 0);
  if (!payload_.empty()) {
    std::memcpy(h + kIndexFileHeaderSize, payload_.data(), payload_.size());
  }
  const std::size_t body = kIndexFileHeaderSize + payload_.size();
  put<uint32_t>(h + body, crc32c(out.data(), body));
  std::memcpy(h + body + 4, kEndMagic, sizeof(kEndMagic));
  return out;
}

Status IndexFileWriter::commit(const std::string& path) const {
  if (identity_.type.empty() || identity_.type.size() > kIndexFileMaxTypeName) {
    return Status::internal("index file: type name '" + identity_.type +
                            "' must be 1..15 bytes");
  }
  const std::vector<uint8_t> image = serialize();
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("create " + tmp, errno);
  Status st = write_all(fd, image.data(), image.size(), tmp);
  if (st.is_ok() && ::fsync(fd) != 0) st = errno_status("fsync " + tmp, errno);
  if (::close(fd) != 0 && st.is_ok()) st = errno_status("close " + tmp, errno);
  if (st.is_ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = errno_status("rename " + tmp + " to " + path, errno);
  }
  if (!st.is_ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  // Without the directory fsync the rename itself may be lost on power failure.
  return fsync_dir(path);
}

Result<IndexFileReader> IndexFileReader::open(const std::string& path,
                                              const IndexFileIdentity& expected) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::not_found("index file " + path + " does not exist");
    return errno_status("open " + path, err);
  }
  std::vector<uint8_t> bytes;
  struct stat sb {};
  if (::fstat(fd, &sb) == 0 && sb.st_size > 0) bytes.reserve(static_cast<std::size_t>(sb.st_size));
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return errno_status("read " + path, err);
    }
    if (r == 0) break;
    bytes.insert(bytes.end(), buf, buf + r);
  }
  ::close(fd);
  return from_bytes(std::move(bytes), expected);
}

Result<IndexFileReader> IndexFileReader::from_bytes(std::vector<uint8_t> bytes,
                                                    const IndexFileIdentity& expected) {
  const std::size_t size = bytes.size();
  if (size < kIndexFileHeaderSize + kIndexFileTrailerSize) {
    return corrupt("truncated (" + std::to_string(size) + " bytes)");
  }
  const uint8_t* h = bytes.data();
  if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0) return corrupt("bad magic");
  const uint32_t version = get<uint32_t>(h + kOffVersion);
  if (version != kIndexFileVersion) {
    return corrupt("unsupported format version " + std::to_string(version));
  }
  if (get<uint32_t>(h + kOffHeaderSize) != kIndexFileHeaderSize) return corrupt("bad header size");
  const uint64_t payload_len = get<uint64_t>(h + kOffPayloadLen);
  if (payload_len != size - kIndexFileHeaderSize - kIndexFileTrailerSize) {
    return corrupt("length mismatch: header says " + std::to_string(payload_len) +
                   " payload bytes, file holds " +
                   std::to_string(size - kIndexFileHeaderSize - kIndexFileTrailerSize));
  }
  const std::size_t body = kIndexFileHeaderSize + static_cast<std::size_t>(payload_len);
  if (std::memcmp(h + body + 4, kEndMagic, sizeof(kEndMagic)) != 0) return corrupt("bad end magic");
  const uint32_t stored_crc = get<uint32_t>(h + body);
  if (crc32c(h, body) != stored_crc) return corrupt("checksum mismatch");

  // Checksummed from here on; what remains is a file that is intact but not ours.
  if (get<uint64_t>(h + kOffReserved) != 0) return corrupt("reserved header bytes are not zero");
  const char* type_field = reinterpret_cast<const char*>(h + kOffType);
  const std::string type(type_field, strnlen(type_field, kIndexFileMaxTypeName + 1));
  if (type != expected.type) {
    return corrupt("holds a '" + type + "' index, expected '" + expected.type + "'");
  }
  const uint32_t metric = get<uint32_t>(h + kOffMetric);
  if (metric != metric_file_code(expected.metric)) {
    return corrupt("metric code " + std::to_string(metric) + " does not match '" +
                   std::string(metric_name(expected.metric)) + "'");
  }
  const uint64_t rows = get<uint64_t>(h + kOffRows);
  const uint32_t dim = get<uint32_t>(h + kOffDim);
  if (rows != expected.rows || dim != expected.dim) {
    return corrupt("built over " + std::to_string(rows) + " rows of dim " + std::to_string(dim) +
                   ", expected " + std::to_string(expected.rows) + " of dim " +
                   std::to_string(expected.dim));
  }

  IndexFileReader r;
  r.bytes_ = std::move(bytes);
  r.pos_ = kIndexFileHeaderSize;
  r.end_ = body;
  r.version_ = version;
  return r;
}

Status IndexFileReader::read_span(const uint8_t** out, std::size_t n) {
  if (n > remaining()) {
    return corrupt("read of " + std::to_string(n) + " bytes past the end of the payload");
  }
  *out = bytes_.data() + pos_;
  pos_ += n;
  return Status::ok();
}

Status IndexFileReader::read_bytes(void* out, std::size_t n) {
  const uint8_t* p = nullptr;
  QUIVER_RETURN_IF_ERROR(read_span(&p, n));
  if (n > 0) std::memcpy(out, p, n);
  return Status::ok();
}

Status IndexFileReader::expect_end() const {
  if (remaining() != 0) {
    return corrupt(std::to_string(remaining()) + " unread payload bytes");
  }
  return Status::ok();
}

}  // namespace quiver::index
