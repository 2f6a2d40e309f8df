// Status and Result<T>: errors as values.
//
// Every fallible function in Quiver returns one of these. A Status carries a code that says
// *whose fault* the failure is (the client's: kInvalidArgument, kNotFound, ...; ours or the
// machine's: kInternal, kIOError, ...) and, for validation failures, the list of offending
// fields with the JSON path of each (`chunks[3].embedding`). The api/ layer turns a Status
// into problem+json in exactly one place (api/problem.cc); nothing below api/ knows HTTP.
//
// Thread-safety: plain values; safe to copy and move between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace quiver {

enum class StatusCode {
  kOk = 0,
  kMalformed,           // the input could not be parsed at all (bad JSON, bad cursor)
  kInvalidArgument,     // well-formed but invalid; see field_errors()
  kNotFound,            // the named resource does not exist
  kAlreadyExists,       // duplicate id or name
  kConflict,            // state conflict (e.g. dimension change with data present)
  kPreconditionFailed,  // If-Match did not match the current version
  kResourceExhausted,   // overloaded; try again later
  kUnavailable,         // not ready or shutting down
  kStorageFull,         // the disk is full
  kUpstreamError,       // an external service (embedding provider) failed
  kUpstreamTimeout,     // an external service did not answer in time
  kIOError,             // the storage layer failed
  kCorruption,          // stored data failed a checksum or could not be decoded
  kInternal,            // a bug
};

// Stable lower-case name of a code, used in problem "type" URIs and logs.
const char* status_code_name(StatusCode code);

struct FieldError {
  std::string field;    // JSON path, e.g. "chunks[3].embedding"; empty for the body itself
  std::string message;  // human sentence fragment, e.g. "expected 768 numbers, got 767"
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::vector<FieldError> fields = {})
      : code_(code), message_(std::move(message)), fields_(std::move(fields)) {}

  static Status ok() { return Status(); }
  static Status malformed(std::string msg, std::vector<FieldError> f = {}) {
    return {StatusCode::kMalformed, std::move(msg), std::move(f)};
  }
  static Status invalid(std::string msg, std::vector<FieldError> f = {}) {
    return {StatusCode::kInvalidArgument, std::move(msg), std::move(f)};
  }
  // A single invalid field: message "field: why".
  static Status invalid_field(std::string field, std::string why) {
    std::string msg = field + ": " + why;
    return {StatusCode::kInvalidArgument, std::move(msg), {{std::move(field), std::move(why)}}};
  }
  static Status not_found(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status already_exists(std::string msg, std::vector<FieldError> f = {}) {
    return {StatusCode::kAlreadyExists, std::move(msg), std::move(f)};
  }
  static Status conflict(std::string msg, std::vector<FieldError> f = {}) {
    return {StatusCode::kConflict, std::move(msg), std::move(f)};
  }
  static Status precondition_failed(std::string msg) {
    return {StatusCode::kPreconditionFailed, std::move(msg)};
  }
  static Status unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status io_error(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<FieldError>& field_errors() const { return fields_; }

  // "not_found: library 'x' does not exist"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::vector<FieldError> fields_;
};

// Result<T>: either a T or a non-OK Status. Accessing value() of an error is a bug (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).is_ok() && "Result built from an OK Status");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  const T& value() const& { assert(is_ok()); return std::get<T>(v_); }
  T& value() & { assert(is_ok()); return std::get<T>(v_); }
  T&& value() && { assert(is_ok()); return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // The error; an OK Status when this holds a value.
  Status status() const { return is_ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace quiver

// Propagate a non-OK Status from an expression returning Status.
#define QUIVER_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::quiver::Status _qs = (expr);                \
    if (!_qs.is_ok()) return _qs;                 \
  } while (0)

#define QUIVER_CONCAT_INNER(a, b) a##b
#define QUIVER_CONCAT(a, b) QUIVER_CONCAT_INNER(a, b)
// `QUIVER_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result, or returns its error.
#define QUIVER_ASSIGN_OR_RETURN(lhs, expr) \
  QUIVER_ASSIGN_OR_RETURN_IMPL(QUIVER_CONCAT(_qr_, __LINE__), lhs, expr)
#define QUIVER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.is_ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
