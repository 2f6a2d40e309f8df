// The optimizer: one background thread per Database that keeps every library's segments
// in shape. Policies (seal, rebuild, vacuum, merge; docs/segments.md) only choose inputs; all
// of them run the same rewrite mechanism:
//   (a) under writer_mu: capture the input segments and the write number S0, mark them busy;
//   (b) no lock: copy the rows live at S0 into a new sealed segment, build the library's
//       index over it, save the index file;
//   (c) under writer_mu: re-stamp rows deleted since S0, commit the manifest change, swap
//       the inputs for the output, repoint chunk locations, publish.
// Readers in flight keep the old segments (and their indexes) alive through their snapshot.
#include <algorithm>
#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "engine/database_impl.h"
#include "engine/segment_manifest.h"

namespace quiver::engine {

namespace {

std::string_view policy_name(int p) {
  static constexpr std::string_view kNames[] = {"seal", "rebuild", "vacuum", "merge"};
  return kNames[p];
}

// "." and ".." are valid library ids but not usable directory names; '%' is not an id
// character, so the escaped names cannot collide with another id.
std::string dir_name(std::string_view lib_id) {
  if (lib_id == ".") return "%2E";
  if (lib_id == "..") return "%2E%2E";
  return std::string(lib_id);
}

void remove_file(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
}

}  // namespace

std::string DatabaseImpl::index_dir(std::string_view lib_id) const {
  return (std::filesystem::path(options_.data_dir) / "indexes" / dir_name(lib_id)).string();
}

std::string DatabaseImpl::index_path(std::string_view lib_id, uint64_t segment_id) const {
  return (std::filesystem::path(index_dir(lib_id)) / (std::to_string(segment_id) + ".qidx"))
      .string();
}

EngineStats DatabaseImpl::engine_stats() const {
  EngineStats s;
  s.index_builds = counters_.index_builds.load();
  s.index_loads = counters_.index_loads.load();
  s.index_load_failures = counters_.index_load_failures.load();
  s.seals = counters_.seals.load();
  s.merges = counters_.merges.load();
  s.vacuums = counters_.vacuums.load();
  s.rebuilds = counters_.rebuilds.load();
  s.rewrites_abandoned = counters_.abandoned.load();
  return s;
}

// ---- thread -----------------------------------------------------------------------------

void DatabaseImpl::start_optimizer() {
  optimizer_ = std::thread([this] { optimizer_loop(); });
}

void DatabaseImpl::stop_optimizer() {
  stopping_.store(true);
  {
    std::lock_guard lock(opt_mu_);
    opt_stop_ = true;
  }
  opt_cv_.notify_all();
  // Cancel a build in progress so that shutdown does not wait for it to finish.
  std::vector<std::shared_ptr<LibraryState>> libs;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, st] : libs_) libs.push_back(st);
  }
  for (const auto& st : libs) {
    std::lock_guard writer(st->writer_mu);
    st->cancel->store(true);
  }
  if (optimizer_.joinable()) optimizer_.join();
  notify_progress();
}

void DatabaseImpl::wake_optimizer() {
  {
    std::lock_guard lock(opt_mu_);
    opt_wake_ = true;
  }
  opt_cv_.notify_one();
}

void DatabaseImpl::optimizer_loop() {
  // Bounded work per library per pass, so one busy library cannot starve the others.
  constexpr int kJobsPerPass = 4;
  std::unique_lock lock(opt_mu_);
  while (!opt_stop_) {
    opt_cv_.wait_for(lock, std::chrono::milliseconds(options_.optimizer_tick_ms),
                     [&] { return opt_stop_ || opt_wake_; });
    if (opt_stop_) break;
    opt_wake_ = false;
    lock.unlock();
    std::vector<std::shared_ptr<LibraryState>> libs;
    {
      std::shared_lock m(mu_);
      for (const auto& [id, st] : libs_) libs.push_back(st);
    }
    bool more = false;
    for (const auto& st : libs) {
      for (int i = 0; i < kJobsPerPass && !stopping_.load(); ++i) {
        auto job = plan_rewrite(st);
        if (!job) break;
        run_rewrite(*job);
        if (i + 1 == kJobsPerPass) more = true;
      }
    }
    lock.lock();
    if (more) opt_wake_ = true;
  }
}

// ---- planning ---------------------------------------------------------------------------

bool DatabaseImpl::vacuum_due(const SegmentEntry& e, const IndexConfig& config) const {
  return e.sealed && e.deleted > options_.vacuum_deleted_fraction * e.rows() &&
         !e.build_failed(config);
}

std::vector<uint64_t> DatabaseImpl::merge_candidates(const LibraryState& st) const {
  // Small sealed segments (live < threshold / 2), oldest first, while the output stays
  // within one threshold: fewer, larger segments mean fewer index searches per query.
  const uint64_t small = std::max<uint64_t>(options_.seal_threshold / 2, 1);
  const uint64_t max_rows = std::max<uint64_t>(options_.seal_threshold, 2);
  std::vector<uint64_t> inputs;
  uint64_t total = 0;
  for (const auto& [id, e] : st.segments) {
    if (!e.sealed || e.busy || e.build_failed(st.library.index)) continue;
    const uint64_t live = e.rows() - e.deleted;
    if (live >= small || total + live > max_rows) continue;
    inputs.push_back(id);
    total += live;
  }
  if (inputs.size() < 2) inputs.clear();
  return inputs;
}

std::optional<DatabaseImpl::RewriteJob> DatabaseImpl::plan_rewrite(
    const std::shared_ptr<LibraryState>& stp) {
  LibraryState& st = *stp;
  std::lock_guard writer(st.writer_mu);
  if (st.dropped || stopping_.load()) return std::nullopt;
  const IndexConfig& config = st.library.index;
  auto failed = [&](const SegmentEntry& e) { return e.build_failed(config); };

  // Seal: freeze the appendable segment (new inserts go to a fresh one), then rewrite it.
  auto active = st.segments.find(st.active);
  if (active != st.segments.end() && !active->second.busy) {
    const uint32_t rows = active->second.rows();
    if (rows >= options_.seal_threshold || (st.seal_requested && rows > 0)) {
      SegmentEntry e;
      e.appendable = std::make_shared<AppendableSegment>(st.library.dimension, kSegmentBlocks);
      st.active = next_segment_id_.fetch_add(1);
      st.segments.emplace(st.active, std::move(e));
    }
  }
  st.seal_requested = false;

  Policy policy = Policy::kSeal;
  std::vector<uint64_t> inputs;
  for (const auto& [id, e] : st.segments) {  // frozen appendable segments first
    if (e.appendable && id != st.active && !e.busy && !failed(e)) {
      inputs.push_back(id);
      break;
    }
  }
  if (inputs.empty()) {
    policy = Policy::kRebuild;
    for (const auto& [id, e] : st.segments) {
      if (e.sealed && !e.busy && !failed(e) &&
          (!e.index || e.stale || *e.index_config != config)) {
        inputs.push_back(id);
        break;
      }
    }
  }
  if (inputs.empty()) {
    policy = Policy::kVacuum;
    for (const auto& [id, e] : st.segments) {
      if (e.sealed && !e.busy && vacuum_due(e, config)) {
        inputs.push_back(id);
        break;
      }
    }
  }
  if (inputs.empty()) {
    policy = Policy::kMerge;
    inputs = merge_candidates(st);
    if (inputs.size() < 2) inputs.clear();
  }
  if (inputs.empty()) return std::nullopt;

  RewriteJob job;
  job.st = stp;
  job.library_id = st.library.id;
  job.policy = policy;
  job.config = config;
  job.metric = st.library.metric;
  job.dim = st.library.dimension;
  job.s0 = st.seq;
  job.cancel = st.cancel;
  for (uint64_t id : inputs) {
    SegmentEntry& e = st.segments.at(id);
    e.busy = true;
    job.inputs.push_back({id, e.appendable, e.sealed, e.rows()});
  }
  ++st.rewrites;
  publish(st, st.seq);  // index_status shows "building" from now on
  return job;
}

// ---- the mechanism ----------------------------------------------------------------------

void DatabaseImpl::run_rewrite(RewriteJob& job) {
  LibraryState& st = *job.st;
  // (b) Copy the rows live at S0. Rows deleted later are copied too and re-stamped in (c).
  std::vector<std::pair<uint32_t, uint32_t>> origin;  // new row -> (input index, old row)
  for (uint32_t i = 0; i < job.inputs.size(); ++i) {
    const RewriteInput& in = job.inputs[i];
    for (uint32_t r = 0; r < in.rows; ++r) {
      const bool gone = in.sealed ? in.sealed->is_deleted(r, job.s0)
                                  : in.appendable->is_deleted(r, job.s0);
      if (!gone) origin.emplace_back(i, r);
    }
  }
  std::shared_ptr<SealedSegment> out;
  std::shared_ptr<const index::VectorIndex> idx;
  std::vector<uint64_t> hashes;
  uint64_t out_id = 0;
  std::string path;
  Status status;
  if (!origin.empty()) {
    out = std::make_shared<SealedSegment>(job.dim, static_cast<uint32_t>(origin.size()));
    hashes.resize(origin.size());
    for (uint32_t n = 0; n < origin.size(); ++n) {
      const RewriteInput& in = job.inputs[origin[n].first];
      const uint32_t r = origin[n].second;
      const float* v = in.sealed ? in.sealed->row(r) : in.appendable->row(r);
      const float norm = in.sealed ? in.sealed->norm(r) : in.appendable->norm(r);
      const std::string& id = in.sealed ? in.sealed->chunk_id(r) : in.appendable->chunk_id(r);
      out->fill_row(n, v, norm, id);
      hashes[n] = manifest::embedding_hash(v, sizeof(float) * job.dim);
    }
    std::atomic<uint64_t> progress{0};
    index::BuildOptions bo;
    bo.threads = std::max(1u, options_.build_threads);
    bo.cancel = job.cancel.get();
    bo.progress = &progress;
    auto built = index::build_index(job.config, job.metric, out->view(), bo);
    if (built.is_ok()) {
      counters_.index_builds.fetch_add(1);
      idx = std::move(built).value();
      out_id = next_segment_id_.fetch_add(1);
      path = index_path(job.library_id, out_id);
      std::error_code ec;
      std::filesystem::create_directories(index_dir(job.library_id), ec);
      Status saved = idx->save(path);
      // Not fatal: the segment is searchable now; after a restart the missing file is
      // noticed and the index rebuilt.
      if (!saved.is_ok()) spdlog::warn("saving index {}: {}", path, saved.to_string());
    } else {
      status = built.status();
    }
  }

  // (c) Install.
  bool installed = false;
  {
    std::lock_guard writer(st.writer_mu);
    bool ok = status.is_ok() && !st.dropped && !job.cancel->load();
    for (const RewriteInput& in : job.inputs) {
      auto it = st.segments.find(in.id);
      if (it == st.segments.end() || !it->second.busy) ok = false;  // dimension change
    }
    if (ok) {
      // Re-apply deletes that happened since S0 (the same write numbers, so snapshots
      // published before and after the swap agree).
      uint32_t deleted = 0;
      for (uint32_t n = 0; n < origin.size(); ++n) {
        const SegmentEntry& e = st.segments.at(job.inputs[origin[n].first].id);
        const uint64_t at = e.deleted_at(origin[n].second);
        if (at != SealedSegment::kLive) {
          out->mark_deleted(n, at);
          ++deleted;
        }
      }
      auto batch = db_->batch();
      if (out) {
        manifest::SegmentManifest m;
        m.index = job.config;
        m.chunk_ids.reserve(origin.size());
        for (uint32_t n = 0; n < origin.size(); ++n) m.chunk_ids.push_back(out->chunk_id(n));
        m.hashes = std::move(hashes);
        batch.put(kCfMeta, manifest::key(job.library_id, out_id), manifest::encode(m));
      }
      for (const RewriteInput& in : job.inputs) {
        if (in.sealed) batch.del(kCfMeta, manifest::key(job.library_id, in.id));
      }
      status = commit(batch);
      if (status.is_ok()) {
        for (uint32_t n = 0; n < origin.size(); ++n) {
          const RewriteInput& in = job.inputs[origin[n].first];
          if (out->deleted_at(n) != SealedSegment::kLive) continue;
          auto loc = st.chunks.find(out->chunk_id(n));
          if (loc != st.chunks.end() && loc->second.segment == in.id &&
              loc->second.row == origin[n].second) {
            loc->second.segment = out_id;
            loc->second.row = n;
          }
        }
        for (const RewriteInput& in : job.inputs) st.segments.erase(in.id);
        if (out) {
          SegmentEntry e;
          e.sealed = out;
          e.index = idx;
          e.index_config = std::make_shared<const IndexConfig>(job.config);
          e.deleted = deleted;
          st.segments.emplace(out_id, std::move(e));
        }
        installed = true;
        // Counted before the snapshot is published, so whoever observes the new state
        // (a waiting rebuild_index, a test) also observes the count.
        switch (job.policy) {
          case Policy::kSeal: counters_.seals.fetch_add(1); break;
          case Policy::kRebuild: counters_.rebuilds.fetch_add(1); break;
          case Policy::kVacuum: counters_.vacuums.fetch_add(1); break;
          case Policy::kMerge: counters_.merges.fetch_add(1); break;
        }
      }
    }
    if (!installed) {
      const bool cancelled = job.cancel->load() || st.dropped ||
                             status.code() == StatusCode::kUnavailable;
      for (const RewriteInput& in : job.inputs) {
        auto it = st.segments.find(in.id);
        if (it == st.segments.end()) continue;
        it->second.busy = false;
        if (!cancelled) it->second.failed_config = std::make_shared<const IndexConfig>(job.config);
      }
      if (!cancelled) {
        spdlog::error("library {}: {} rewrite failed: {}", job.library_id,
                      policy_name(static_cast<int>(job.policy)), status.to_string());
      }
    }
    --st.rewrites;
    if (!st.dropped) publish(st, st.seq);
  }

  if (installed) {
    for (const RewriteInput& in : job.inputs) {
      if (in.sealed) remove_file(index_path(job.library_id, in.id));
    }
  } else {
    counters_.abandoned.fetch_add(1);
    if (!path.empty()) remove_file(path);
  }
  notify_progress();
}

void DatabaseImpl::notify_progress() {
  { std::lock_guard lock(done_mu_); }
  done_cv_.notify_all();
}

void DatabaseImpl::request_reindex(LibraryState& st, bool force) {
  st.cancel_rewrites();
  st.seal_requested = true;
  for (auto& [id, e] : st.segments) {
    e.failed_config.reset();
    if (force && e.sealed) e.stale = true;
  }
  st.optimizer_due = true;
}

void DatabaseImpl::wait_indexed(const std::shared_ptr<LibraryState>& st,
                                const IndexConfig& config) {
  std::unique_lock lock(done_mu_);
  while (!stopping_.load()) {
    auto snap = st->load();
    bool gone;
    {
      std::shared_lock m(mu_);
      auto it = libs_.find(snap->library.id);
      gone = it == libs_.end() || it->second != st;
    }
    if (gone || snap->library.index != config || !snap->optimizing) return;
    // The timeout only bounds the cost of a missed wake-up; progress is notified.
    done_cv_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

void DatabaseImpl::remove_unreferenced_index_files() {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(options_.data_dir) / "indexes";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;
  // directory name -> file names that a manifest references
  std::map<std::string, std::set<std::string>> keep;
  for (const auto& [id, st] : libs_) {
    auto& files = keep[dir_name(id)];
    for (const auto& [seg_id, e] : st->segments) {
      if (e.sealed) files.insert(std::to_string(seg_id) + ".qidx");
    }
  }
  std::vector<fs::path> doomed;
  for (const auto& dir : fs::directory_iterator(root, ec)) {
    auto lib = keep.find(dir.path().filename().string());
    if (lib == keep.end() || !dir.is_directory(ec)) {
      doomed.push_back(dir.path());
      continue;
    }
    for (const auto& f : fs::directory_iterator(dir.path(), ec)) {
      if (lib->second.count(f.path().filename().string()) == 0) doomed.push_back(f.path());
    }
  }
  for (const auto& p : doomed) {
    spdlog::info("removing unreferenced index file {}", p.string());
    fs::remove_all(p, ec);
  }
}

}  // namespace quiver::engine
