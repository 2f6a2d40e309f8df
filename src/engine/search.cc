// kNN search over a library's published snapshot. Never takes the library's writer mutex.
#include <algorithm>

#include "engine/database_impl.h"
#include "engine/embedding.h"
#include "engine/validate.h"
#include "index/distance.h"
#include "index/flat_index.h"
#include "index/ivf.h"

namespace quiver::engine {

namespace {

// Rows the snapshot may return: not deleted as of its write number. `live` is the
// segment's live row count at the snapshot, maintained by the writer, so the estimate is
// exact and free.
template <typename Segment>
class LiveRows final : public index::RowFilter {
 public:
  LiveRows(const Segment& segment, uint64_t seq, uint32_t live)
      : segment_(segment), seq_(seq), live_(live) {}
  bool allows(uint32_t row) const override { return !segment_.is_deleted(row, seq_); }
  uint64_t estimated_allowed(uint32_t rows) const override {
    return std::min<uint64_t>(rows, live_);
  }

 private:
  const Segment& segment_;
  uint64_t seq_;
  uint32_t live_;
};

// Whether `index` (built with `config`) compares every allowed row exactly for `params`.
// Kept honest: graph search (hnsw) never is; ivf only when it probes every list.
bool index_is_exact(const index::VectorIndex& idx, const IndexConfig& config,
                    const index::SearchParams& params) {
  const std::string_view type = idx.type();
  if (type == "flat" || type == "kdtree") return true;
  if (type == "ivf") {
    auto it = config.params.find("nprobe");
    const uint64_t nprobe =
        params.nprobe ? *params.nprobe : (it != config.params.end() ? it->second : 0);
    return nprobe >= index::ivf::list_count(idx);
  }
  return false;
}

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

  // Fan out over the snapshot's segments: indexed sealed segments through their index,
  // everything else (appendable rows, sealed rows whose index is still building, or any row
  // when the request asks for exact) by an exact scan. Each segment keeps its own top-k.
  std::vector<Candidate> candidates;
  bool exact = true;
  for (const SegmentRef& ref : snap->segments) {
    index::TopK top(request.k);
    if (ref.appendable) {
      const AppendableSegment& seg = *ref.appendable;
      LiveRows<AppendableSegment> filter(seg, snap->seq, ref.live);
      const uint32_t block_rows = seg.block_rows();
      for (uint32_t first = 0; first < ref.rows; first += block_rows) {
        const uint32_t count = std::min(block_rows, ref.rows - first);
        index::scan(query, lib.metric, seg.view(first, count), first, &filter, top);
      }
      for (const auto& n : top.take_sorted()) {
        candidates.push_back({n.distance, seg.chunk_id(n.row)});
      }
      continue;
    }
    const SealedSegment& seg = *ref.sealed;
    if (ref.live == 0) continue;
    LiveRows<SealedSegment> filter(seg, snap->seq, ref.live);
    if (ref.index && !request.exact) {
      ref.index->search(query, request.params, &filter, top);
      exact = exact && index_is_exact(*ref.index, *ref.index_config, request.params);
    } else {
      index::scan(query, lib.metric, seg.view(), 0, &filter, top);
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
  out.exact = exact;
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
