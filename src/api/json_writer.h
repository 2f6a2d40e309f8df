// JsonWriter: a small append-only JSON text builder for responses.
//
// Why our own: responses are simple trees, and we need exact control over number
// rendering: float32 values (embeddings, scores) use the shortest text that round-trips
// as float32, so an embedding sent as 0.1 comes back as 0.1 rather than 0.10000000149.
// The caller is responsible for well-formedness (matching begin/end, key before value in
// objects); commas are inserted automatically.
//
// Thread-safety: none; one writer per response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quiver::api {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(256); }

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  // Inside an object: writes `"name":`; the next call writes the value.
  void key(std::string_view name);

  void string(std::string_view s);
  void null();
  void boolean(bool b);
  void int64(int64_t v);
  void uint64(uint64_t v);
  // Shortest float32 round-trip rendering; non-finite values become null (JSON has none).
  void float32(float v);
  // Shortest float64 round-trip rendering, always with a '.' or exponent so that a
  // client re-sending it reads a double, not an integer. Non-finite -> null.
  void float64(double v);
  // Appends already-serialized JSON as one value (e.g. the embedded OpenAPI document).
  void raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();

  std::string out_;
  // One entry per open container: true when it already holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// Appends `s` as a JSON string literal (with quotes) to `out`. Control characters, '"' and
// '\\' are escaped; other bytes (UTF-8) are copied as is, since input strings were
// validated as UTF-8 on the way in.
void append_json_string(std::string& out, std::string_view s);

}  // namespace quiver::api
