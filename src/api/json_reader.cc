#include "api/json_reader.h"

#include <memory>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace quiver::api {
namespace {

// Accepts every event: we only want the reader's verdict and error offset.
struct NullHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, NullHandler> {
  bool Default() { return true; }
};

// Bodies up to this size keep their parser buffers for reuse by the next request.
constexpr std::size_t kRetainedCapacity = 4u << 20;

struct ThreadParser {
  std::unique_ptr<simdjson::dom::parser> parser;
};
thread_local ThreadParser t_parser;

simdjson::dom::parser& thread_parser() {
  if (!t_parser.parser) {
    auto p = std::make_unique<simdjson::dom::parser>();
    // Sets the depth limit; capacity grows on demand and keeps this depth. A failure here
    // is out of memory, which parse() then reports as MEMALLOC.
    [[maybe_unused]] simdjson::error_code err =
        p->allocate(simdjson::dom::MINIMAL_DOCUMENT_CAPACITY, kMaxJsonDepth);
    t_parser.parser = std::move(p);
  }
  return *t_parser.parser;
}

Status malformed_at(const std::string& reason, std::size_t offset) {
  std::string msg = "malformed JSON: " + reason + " at byte " + std::to_string(offset);
  return Status::malformed(msg, {{"", reason + " at byte " + std::to_string(offset)}});
}

}  // namespace

void trim_thread_parser() {
  if (t_parser.parser && t_parser.parser->capacity() > kRetainedCapacity) t_parser.parser.reset();
}

bool locate_json_error(std::string_view text, std::size_t* offset, std::string* reason) {
  // Iterative parsing: a deeply nested hostile body cannot overflow the stack here.
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::Reader reader;
  NullHandler handler;
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  rapidjson::ParseResult r = reader.Parse<kFlags>(ms, handler);
  if (!r.IsError()) return false;
  *offset = r.Offset();
  std::string why = rapidjson::GetParseError_En(r.Code());
  if (!why.empty() && why.back() == '.') why.pop_back();
  if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  *reason = why;
  return true;
}

Result<simdjson::dom::element> parse_json(const std::string& body) {
  simdjson::dom::parser& parser = thread_parser();
  simdjson::dom::element root;
  simdjson::error_code err = parser.parse(body).get(root);
  if (err == simdjson::SUCCESS) return root;
  if (err == simdjson::DEPTH_ERROR) {
    std::string msg = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return Status::malformed(msg, {{"", msg}});
  }
  if (err == simdjson::MEMALLOC || err == simdjson::CAPACITY) {
    return Status(StatusCode::kResourceExhausted, "not enough memory to parse the body");
  }
  std::size_t offset = 0;
  std::string reason;
  if (locate_json_error(body, &offset, &reason)) return malformed_at(reason, offset);
  // The validating pass accepted what simdjson rejected (e.g. an integer beyond 64 bits):
  // still the client's input, reported without an offset.
  std::string msg = std::string("malformed JSON: ") + simdjson::error_message(err);
  return Status::malformed(msg, {{"", simdjson::error_message(err)}});
}

}  // namespace quiver::api
