// kNN search over a library's published snapshot. Never takes the library's writer mutex.
#include <algorithm>

#include "engine/database_impl.h"
#include "engine/embedding.h"
#include "engine/validate.h"
#include "index/distance.h"
#include "index/flat_index.h"

namespace quiver::engine {

namespace {

// Rows the snapshot may return: not deleted as of its write number.
class LiveRows final : public index::RowFilter {
 public:
  LiveRows(const AppendableSegment& segment, uint64_t seq) : segment_(segment), seq_(seq) {}
  bool allows(uint32_t row) const override { return !segment_.is_deleted(row, seq_); }
  uint64_t estimated_allowed(uint32_t rows) const override { return rows; }

 private:
  const AppendableSegment& segment_;
  uint64_t seq_;
};

struct Candidate {
  float distance;
  std::string_view chunk_id;  // owned by a segment the snapshot keeps alive
};

}  // namespace

Result<SearchResponse> DatabaseImpl::search(std::string_view library_id,
                                            const SearchRequest& request) {
  // One snapshot for the whole query: vectors, deletions and records all agree with it.
  QUIVER_ASSIGN_OR_RETURN(auto snap, find_snapshot(library_id));
  const Library& lib = snap->library;
  std::vector<FieldError> errors;
  validate_search(request, lib, errors);
  QUIVER_RETURN_IF_ERROR(errors_to_status(std::move(errors)));

  std::vector<float> embedded;
  const std::vector<float>* qv = request.vector ? &*request.vector : nullptr;
  if (qv == nullptr) {
    if (!lib.embedder || !request.text) {
      return Status::invalid_field("text", "the library has no embedder");
    }
    QUIVER_ASSIGN_OR_RETURN(auto vs, embed_texts(*lib.embedder, {*request.text},
                                                 embed::InputType::kQuery));
    embedded = std::move(vs[0]);
    qv = &embedded;
  }
  if (qv->size() != lib.dimension) {
    return Status::invalid_field(request.vector ? "vector" : "text",
                                 "expected " + std::to_string(lib.dimension) + " numbers");
  }
  index::Query query{qv->data(), index::norm(qv->data(), lib.dimension)};

  // Exact scan of every visible row, block by block (blocks are the contiguous unit).
  std::vector<Candidate> candidates;
  for (const SegmentRef& ref : snap->segments) {
    const AppendableSegment& seg = *ref.segment;
    LiveRows filter(seg, snap->seq);
    index::TopK top(request.k);
    const uint32_t block_rows = seg.block_rows();
    for (uint32_t first = 0; first < ref.rows; first += block_rows) {
      const uint32_t count = std::min(block_rows, ref.rows - first);
      index::scan(query, lib.metric, seg.view(first, count), first, &filter, top);
    }
    for (const auto& n : top.take_sorted()) {
      candidates.push_back({n.distance, seg.chunk_id(n.row)});
    }
  }
  // TopK kept every candidate tied with its k-th distance, so ordering by (distance, id)
  // and cutting to k gives exactly the contract's answer.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.chunk_id < b.chunk_id;
  });
  if (candidates.size() > request.k) candidates.resize(request.k);

  SearchResponse out;
  out.index = lib.index.type;
  out.exact = true;
  out.results.reserve(candidates.size());
  std::string buffer;
  for (const Candidate& c : candidates) {
    QUIVER_ASSIGN_OR_RETURN(auto rec, read_chunk(lib.id, c.chunk_id, snap->read.get(), buffer));
    SearchHit hit;
    hit.chunk_id = std::move(rec.chunk.id);
    hit.document_id = std::move(rec.chunk.document_id);
    hit.score = index::distance_to_score(lib.metric, c.distance);
    if (request.include_text) hit.text = std::move(rec.chunk.text);
    if (request.include_metadata) hit.metadata = std::move(rec.chunk.metadata);
    hit.created_at = rec.chunk.created_at;
    hit.updated_at = rec.chunk.updated_at;
    if (request.include_embedding) hit.embedding = rec.embedding_floats();
    out.results.push_back(std::move(hit));
  }
  return out;
}

}  // namespace quiver::engine
