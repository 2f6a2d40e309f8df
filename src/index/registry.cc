#include "index/registry.h"

#include <algorithm>
#include <array>

#include "index/flat_index.h"
#include "index/hnsw.h"
#include "index/ivf.h"
#include "index/kdtree.h"
// Other index types: include their headers here (index/hnsw.h, index/kdtree.h, index/ivf.h).

namespace quiver::index {

namespace {

struct ParamSpec {
  std::string_view name;
  int64_t min;
  int64_t max;
  int64_t def;
};

constexpr int64_t kMaxSeed = int64_t{1} << 53;  // JSON numbers stay exact below 2^53

constexpr std::array<ParamSpec, 1> kKdtreeParams{{{"leaf_size", 1, 4096, 32}}};
constexpr std::array<ParamSpec, 4> kHnswParams{{{"m", 2, 128, 16},
                                                {"ef_construction", 1, 4096, 200},
                                                {"ef_search", 1, 10000, 64},
                                                {"seed", 0, kMaxSeed, 42}}};
constexpr std::array<ParamSpec, 4> kIvfParams{{{"nlist", 0, 65536, 0},
                                               {"nprobe", 1, 65536, 8},
                                               {"iterations", 1, 100, 20},
                                               {"seed", 0, kMaxSeed, 42}}};

struct TypeSpec {
  std::string_view name;
  const ParamSpec* params;
  std::size_t param_count;
};

// The stable order index_types() reports and error messages list.
constexpr std::array<TypeSpec, 4> kTypes{{
    {"flat", nullptr, 0},
    {"kdtree", kKdtreeParams.data(), kKdtreeParams.size()},
    {"hnsw", kHnswParams.data(), kHnswParams.size()},
    {"ivf", kIvfParams.data(), kIvfParams.size()},
}};

const TypeSpec* find_type(std::string_view name) {
  for (const TypeSpec& t : kTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string field(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  std::string f(prefix);
  f += '.';
  f += name;
  return f;
}

std::string type_list() {
  std::string s;
  for (const TypeSpec& t : kTypes) {
    if (!s.empty()) s += ", ";
    s += t.name;
  }
  return s;
}

Status from_field_errors(std::vector<FieldError> errors) {
  if (errors.size() == 1) return Status::invalid_field(errors[0].field, errors[0].message);
  std::string msg;
  for (const FieldError& e : errors) {
    if (!msg.empty()) msg += "; ";
    msg += e.field + ": " + e.message;
  }
  return Status::invalid(std::move(msg), std::move(errors));
}

// A normalized config's param as an unsigned integer (normalization guarantees the range).
[[maybe_unused]] uint32_t param_u32(const IndexConfig& c, const char* name) {
  return static_cast<uint32_t>(c.params.at(name));
}
[[maybe_unused]] uint64_t param_u64(const IndexConfig& c, const char* name) {
  return static_cast<uint64_t>(c.params.at(name));
}

Status not_available(std::string_view type) {
  return Status::invalid_field("index.type", "index type '" + std::string(type) +
                                                 "' is not available in this build");
}

}  // namespace

IndexConfig default_index_config() {
  IndexConfig c;
  c.type = "hnsw";
  for (const ParamSpec& p : kHnswParams) c.params[std::string(p.name)] = p.def;
  return c;
}

std::vector<std::string_view> index_types() {
  std::vector<std::string_view> out;
  for (const TypeSpec& t : kTypes) out.push_back(t.name);
  return out;
}

Result<IndexConfig> normalize_index_config(const IndexConfig& in, std::string_view field_prefix) {
  const TypeSpec* spec = find_type(in.type);
  if (spec == nullptr) {
    return Status::invalid_field(field(field_prefix, "type"),
                                 "unknown index type '" + in.type + "'; expected one of " +
                                     type_list());
  }
  const std::string params_prefix = field(field_prefix, "params");
  std::vector<FieldError> errors;
  IndexConfig out;
  out.type = in.type;
  for (const auto& [name, value] : in.params) {
    const ParamSpec* p = std::find_if(spec->params, spec->params + spec->param_count,
                                      [&](const ParamSpec& s) { return s.name == name; });
    if (p == spec->params + spec->param_count) {
      std::string known;
      for (std::size_t i = 0; i < spec->param_count; ++i) {
        known += (i ? ", " : "") + std::string(spec->params[i].name);
      }
      errors.push_back({field(params_prefix, name),
                        "unknown parameter for index type '" + in.type + "'" +
                            (known.empty() ? std::string("; it takes no parameters")
                                           : "; expected one of " + known)});
      continue;
    }
    if (value < p->min || value > p->max) {
      errors.push_back({field(params_prefix, name),
                        "must be between " + std::to_string(p->min) + " and " +
                            std::to_string(p->max) + ", got " + std::to_string(value)});
      continue;
    }
    out.params[name] = value;
  }
  if (!errors.empty()) return from_field_errors(std::move(errors));
  for (std::size_t i = 0; i < spec->param_count; ++i) {
    out.params.try_emplace(std::string(spec->params[i].name), spec->params[i].def);
  }
  return out;
}

Status validate_search_params(const SearchParams& p, std::string_view field_prefix) {
  std::vector<FieldError> errors;
  if (p.ef && (*p.ef < 1 || *p.ef > 10000)) {
    errors.push_back({field(field_prefix, "ef"),
                      "must be between 1 and 10000, got " + std::to_string(*p.ef)});
  }
  if (p.nprobe && (*p.nprobe < 1 || *p.nprobe > 65536)) {
    errors.push_back({field(field_prefix, "nprobe"),
                      "must be between 1 and 65536, got " + std::to_string(*p.nprobe)});
  }
  if (!errors.empty()) return from_field_errors(std::move(errors));
  return Status::ok();
}

Result<std::unique_ptr<VectorIndex>> build_index(const IndexConfig& config, Metric metric,
                                                 VectorView view, const BuildOptions& options) {
  // Normalizing again is cheap and makes every param lookup below safe.
  QUIVER_ASSIGN_OR_RETURN(const IndexConfig c, normalize_index_config(config, "index"));
  if (options.cancel != nullptr && options.cancel->load()) {
    return Status::unavailable("index build cancelled");
  }
  if (c.type == "flat") {
    if (options.progress != nullptr) options.progress->store(view.rows);
    return make_flat_index(metric, view);
  }
  // ---- Dispatch for the other index types (filled in by their owners) ----------------
  // hnsw:   return hnsw::build(hnsw::Params{param_u32(c, "m"), param_u32(c, "ef_construction"),
  //                                         param_u32(c, "ef_search"), param_u64(c, "seed")},
  //                            metric, view, options);
  // kdtree: return kdtree::build(kdtree::Params{param_u32(c, "leaf_size")}, metric, view,
  //                              options);
  // ivf:    return ivf::build(ivf::Params{param_u32(c, "nlist"), param_u32(c, "nprobe"),
  //                                       param_u32(c, "iterations"), param_u64(c, "seed")},
  //                           metric, view, options);
  if (c.type == "hnsw") {
    return hnsw::build(hnsw::Params{param_u32(c, "m"), param_u32(c, "ef_construction"),
                                    param_u32(c, "ef_search"), param_u64(c, "seed")},
                       metric, view, options);
  }
  if (c.type == "kdtree") {
    return kdtree::build(kdtree::Params{param_u32(c, "leaf_size")}, metric, view, options);
  }
  if (c.type == "ivf") {
    return ivf::build(ivf::Params{param_u32(c, "nlist"), param_u32(c, "nprobe"),
                                  param_u32(c, "iterations"), param_u64(c, "seed")},
                      metric, view, options);
  }
  return not_available(c.type);
}

Result<std::unique_ptr<VectorIndex>> load_index(const IndexConfig& config, Metric metric,
                                                VectorView view, const std::string& path) {
  QUIVER_ASSIGN_OR_RETURN(const IndexConfig c, normalize_index_config(config, "index"));
  if (c.type == "flat") return load_flat_index(metric, view, path);
  // ---- Dispatch for the other index types (filled in by their owners) ----------------
  // hnsw:   return hnsw::load(hnsw::Params{...same as build_index...}, metric, view, path);
  // kdtree: return kdtree::load(kdtree::Params{param_u32(c, "leaf_size")}, metric, view, path);
  // ivf:    return ivf::load(ivf::Params{...same as build_index...}, metric, view, path);
  if (c.type == "hnsw") {
    return hnsw::load(hnsw::Params{param_u32(c, "m"), param_u32(c, "ef_construction"),
                                   param_u32(c, "ef_search"), param_u64(c, "seed")},
                      metric, view, path);
  }
  if (c.type == "kdtree") {
    return kdtree::load(kdtree::Params{param_u32(c, "leaf_size")}, metric, view, path);
  }
  if (c.type == "ivf") {
    return ivf::load(ivf::Params{param_u32(c, "nlist"), param_u32(c, "nprobe"),
                                 param_u32(c, "iterations"), param_u64(c, "seed")},
                     metric, view, path);
  }
  return not_available(c.type);
}

}  // namespace quiver::index
