// Thin handlers: decode -> one engine call -> encode. No business rules live here.
#include "api/handlers.h"

#include "api/decoders.h"
#include "api/encoders.h"
#include "api/problem.h"

// Declares `lhs` from a Result, or returns its problem response.
#define API_ASSIGN_OR_PROBLEM(lhs, expr) \
  API_ASSIGN_OR_PROBLEM_IMPL(QUIVER_CONCAT(_ar_, __LINE__), lhs, expr)
#define API_ASSIGN_OR_PROBLEM_IMPL(tmp, lhs, expr)          \
  auto tmp = (expr);                                        \
  if (!tmp.is_ok()) return problem_response(tmp.status()); \
  lhs = std::move(tmp).value()

namespace quiver::api {
namespace {

// The engine reports a bad cursor as kMalformed; name the query parameter for the client.
Status name_cursor(Status s) {
  if (s.code() == StatusCode::kMalformed && s.field_errors().empty()) {
    return Status::malformed(s.message(), {{"cursor", s.message()}});
  }
  return s;
}

template <typename T, typename F>
HttpResponse page_response(const Result<engine::Page<T>>& page, F write_item) {
  if (!page.is_ok()) return problem_response(name_cursor(page.status()));
  JsonWriter w;
  write_page(w, *page, write_item);
  return json_response(200, std::move(w));
}

HttpResponse library_response(int status, const engine::LibraryView& v) {
  JsonWriter w;
  write_library(w, v);
  HttpResponse r = json_response(status, std::move(w));
  set_etag(r, v.library.version);
  return r;
}

HttpResponse document_response(int status, const engine::Document& d) {
  JsonWriter w;
  write_document(w, d);
  HttpResponse r = json_response(status, std::move(w));
  set_etag(r, d.version);
  return r;
}

HttpResponse chunk_response(int status, const engine::Chunk& c) {
  JsonWriter w;
  write_chunk(w, c);
  HttpResponse r = json_response(status, std::move(w));
  set_etag(r, c.version);
  return r;
}

HttpResponse delete_response(const Status& s) {
  if (!s.is_ok()) return problem_response(s);
  return no_content();
}

}  // namespace

// ---- Libraries

HttpResponse list_libraries(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::PageRequest page, parse_page(ctx));
  return page_response(ctx.db.list_libraries(page), write_library);
}

HttpResponse create_library(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(auto root, json_body(ctx));
  API_ASSIGN_OR_PROBLEM(engine::LibraryCreate in, decode_library_create(root));
  API_ASSIGN_OR_PROBLEM(engine::LibraryView v, ctx.db.create_library(in));
  HttpResponse r = library_response(201, v);
  r.set_header("Location", "/v1/libraries/" + v.library.id);
  return r;
}

HttpResponse get_library(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::LibraryView v, ctx.db.get_library(ctx.param("library_id")));
  return library_response(200, v);
}

HttpResponse update_library(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::IfMatch if_match, parse_if_match(ctx.request));
  API_ASSIGN_OR_PROBLEM(auto root, json_body(ctx));
  API_ASSIGN_OR_PROBLEM(engine::LibraryPatch in, decode_library_patch(root));
  API_ASSIGN_OR_PROBLEM(engine::LibraryView v,
                        ctx.db.update_library(ctx.param("library_id"), in, if_match));
  return library_response(200, v);
}

HttpResponse delete_library(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::IfMatch if_match, parse_if_match(ctx.request));
  return delete_response(ctx.db.delete_library(ctx.param("library_id"), if_match));
}

// ---- Documents

HttpResponse list_documents(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::PageRequest page, parse_page(ctx));
  return page_response(ctx.db.list_documents(ctx.param("library_id"), page), write_document);
}

HttpResponse create_document(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(auto root, json_body(ctx));
  API_ASSIGN_OR_PROBLEM(engine::DocumentCreate in, decode_document_create(root));
  const std::string& library_id = ctx.param("library_id");
  API_ASSIGN_OR_PROBLEM(engine::Document d, ctx.db.create_document(library_id, in));
  HttpResponse r = document_response(201, d);
  r.set_header("Location", "/v1/libraries/" + library_id + "/documents/" + d.id);
  return r;
}

HttpResponse get_document(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::Document d, ctx.db.get_document(ctx.param("library_id"),
                                                                ctx.param("document_id")));
  return document_response(200, d);
}

HttpResponse update_document(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::IfMatch if_match, parse_if_match(ctx.request));
  API_ASSIGN_OR_PROBLEM(auto root, json_body(ctx));
  API_ASSIGN_OR_PROBLEM(engine::DocumentPatch in, decode_document_patch(root));
  API_ASSIGN_OR_PROBLEM(engine::Document d,
                        ctx.db.update_document(ctx.param("library_id"), ctx.param("document_id"),
                                               in, if_match));
  return document_response(200, d);
}

HttpResponse delete_document(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::IfMatch if_match, parse_if_match(ctx.request));
  return delete_response(
      ctx.db.delete_document(ctx.param("library_id"), ctx.param("document_id"), if_match));
}

// ---- Chunks

HttpResponse list_chunks(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::PageRequest page, parse_page(ctx));
  return page_response(
      ctx.db.list_chunks(ctx.param("library_id"), ctx.param("document_id"), page),
      [](JsonWriter& w, const engine::Chunk& c) {
        // Lists never carry embeddings (they can be megabytes per page).
        engine::Chunk copy_free = c;
        copy_free.embedding.reset();
        write_chunk(w, copy_free);
      });
}

HttpResponse create_chunks(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(auto root, json_body(ctx));
  API_ASSIGN_OR_PROBLEM(std::vector<engine::ChunkInput> in, decode_chunks_create(root));
  API_ASSIGN_OR_PROBLEM(std::vector<engine::Chunk> chunks,
                        ctx.db.create_chunks(ctx.param("library_id"), ctx.param("document_id"), in));
  JsonWriter w;
  w.begin_object();
  w.key("chunks");
  w.begin_array();
  for (engine::Chunk& c : chunks) {
    c.embedding.reset();  // POST responses do not echo embeddings
    write_chunk(w, c);
  }
  w.end_array();
  w.end_object();
  return json_response(201, std::move(w));
}

HttpResponse get_chunk(const RequestContext& ctx) {
  bool with_embedding = false;
  if (const std::string* include = query_param(ctx, "include")) {
    std::string_view rest = *include;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view part = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (part == "embedding") {
        with_embedding = true;
      } else if (!part.empty()) {
        return problem_response(Status::invalid_field("include", "must be embedding"));
      }
    }
  }
  API_ASSIGN_OR_PROBLEM(engine::Chunk c, ctx.db.get_chunk(ctx.param("library_id"),
                                                          ctx.param("chunk_id"), with_embedding));
  if (!with_embedding) c.embedding.reset();
  return chunk_response(200, c);
}

HttpResponse update_chunk(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::IfMatch if_match, parse_if_match(ctx.request));
  API_ASSIGN_OR_PROBLEM(auto root, json_body(ctx));
  API_ASSIGN_OR_PROBLEM(engine::ChunkPatch in, decode_chunk_patch(root));
  API_ASSIGN_OR_PROBLEM(engine::Chunk c, ctx.db.update_chunk(ctx.param("library_id"),
                                                             ctx.param("chunk_id"), in, if_match));
  c.embedding.reset();
  return chunk_response(200, c);
}

HttpResponse delete_chunk(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(engine::IfMatch if_match, parse_if_match(ctx.request));
  return delete_response(
      ctx.db.delete_chunk(ctx.param("library_id"), ctx.param("chunk_id"), if_match));
}

// ---- Search and index

HttpResponse search(const RequestContext& ctx) {
  API_ASSIGN_OR_PROBLEM(auto root, json_body(ctx));
  API_ASSIGN_OR_PROBLEM(engine::SearchRequest in, decode_search(root));
  API_ASSIGN_OR_PROBLEM(engine::SearchResponse out, ctx.db.search(ctx.param("library_id"), in));
  JsonWriter w;
  write_search_response(w, out);
  return json_response(200, std::move(w));
}

HttpResponse get_index(const RequestContext& ctx) {
  // One call gives status and config from the same moment.
  API_ASSIGN_OR_PROBLEM(engine::LibraryView v, ctx.db.get_library(ctx.param("library_id")));
  JsonWriter w;
  write_index_info(w, v.index_status, v.library.index);
  return json_response(200, std::move(w));
}

HttpResponse rebuild_index(const RequestContext& ctx) {
  bool wait = false;
  if (const std::string* w = query_param(ctx, "wait")) {
    if (*w == "true") {
      wait = true;
    } else if (*w != "false") {
      return problem_response(Status::malformed("query parameter wait must be true or false",
                                                {{"wait", "expected true or false"}}));
    }
  }
  std::optional<engine::IndexConfig> config;
  if (!ctx.request.body.empty()) {
    API_ASSIGN_OR_PROBLEM(auto root, json_body(ctx));
    API_ASSIGN_OR_PROBLEM(config, decode_index_rebuild(root));
  }
  const std::string& library_id = ctx.param("library_id");
  API_ASSIGN_OR_PROBLEM(engine::IndexStatus status,
                        ctx.db.rebuild_index(library_id, config, wait));
  // The normalized config (defaults filled in) as the engine now holds it.
  API_ASSIGN_OR_PROBLEM(engine::LibraryView v, ctx.db.get_library(library_id));
  JsonWriter w;
  write_index_info(w, status, v.library.index);
  return json_response(wait ? 200 : 202, std::move(w));
}

}  // namespace quiver::api
