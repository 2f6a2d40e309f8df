#include "index/registry.h"

#include <gtest/gtest.h>

namespace quiver::index {
namespace {

std::vector<std::string> fields(const Status& s) {
  std::vector<std::string> out;
  for (const auto& f : s.field_errors()) out.push_back(f.field);
  return out;
}

TEST(RegistryTest, TypesAndDefault) {
  EXPECT_EQ(index_types(), (std::vector<std::string_view>{"flat", "kdtree", "hnsw", "ivf"}));
  const IndexConfig def = default_index_config();
  EXPECT_EQ(def.type, "hnsw");
  EXPECT_EQ(def.params, (std::map<std::string, int64_t>{
                            {"m", 16}, {"ef_construction", 200}, {"ef_search", 64}, {"seed", 42}}));
  auto norm = normalize_index_config(def, "index");
  ASSERT_TRUE(norm.is_ok());
  EXPECT_EQ(*norm, def);
}

TEST(RegistryTest, DefaultsFilledPerType) {
  auto flat = normalize_index_config({"flat", {}}, "index");
  ASSERT_TRUE(flat.is_ok());
  EXPECT_TRUE(flat->params.empty());
  auto kd = normalize_index_config({"kdtree", {}}, "index");
  ASSERT_TRUE(kd.is_ok());
  EXPECT_EQ(kd->params, (std::map<std::string, int64_t>{{"leaf_size", 32}}));
  auto ivf = normalize_index_config({"ivf", {{"nprobe", 3}}}, "index");
  ASSERT_TRUE(ivf.is_ok());
  EXPECT_EQ(ivf->params, (std::map<std::string, int64_t>{
                             {"nlist", 0}, {"nprobe", 3}, {"iterations", 20}, {"seed", 42}}));
  auto hnsw = normalize_index_config({"hnsw", {{"m", 2}, {"seed", int64_t{1} << 53}}}, "");
  ASSERT_TRUE(hnsw.is_ok());
  EXPECT_EQ(hnsw->params.at("m"), 2);
  EXPECT_EQ(hnsw->params.at("ef_search"), 64);
}

TEST(RegistryTest, UnknownTypeListsValidOnes) {
  auto r = normalize_index_config({"annoy", {}}, "index");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fields(r.status()), (std::vector<std::string>{"index.type"}));
  const Status st = r.status();  // status() returns a copy: keep it alive
  const std::string msg = st.field_errors()[0].message;
  EXPECT_NE(msg.find("'annoy'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("flat, kdtree, hnsw, ivf"), std::string::npos) << msg;
}

TEST(RegistryTest, UnknownAndOutOfRangeParams) {
  auto r = normalize_index_config({"hnsw", {{"m", 1}, {"ef", 10}, {"ef_search", 10001}}}, "body.index");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fields(r.status()),
            (std::vector<std::string>{"body.index.params.ef", "body.index.params.ef_search",
                                      "body.index.params.m"}));
  EXPECT_NE(r.status().field_errors()[2].message.find("between 2 and 128, got 1"),
            std::string::npos);
  EXPECT_NE(r.status().field_errors()[0].message.find("unknown parameter"), std::string::npos);

  auto flat = normalize_index_config({"flat", {{"leaf_size", 4}}}, "index");
  EXPECT_EQ(fields(flat.status()), (std::vector<std::string>{"index.params.leaf_size"}));
  for (auto [name, bad] : std::vector<std::pair<std::string, int64_t>>{
           {"nlist", -1}, {"nlist", 65537}, {"nprobe", 0}, {"iterations", 101}, {"seed", -1}}) {
    auto s = normalize_index_config({"ivf", {{name, bad}}}, "index");
    EXPECT_EQ(fields(s.status()), (std::vector<std::string>{"index.params." + name})) << name;
  }
  EXPECT_FALSE(normalize_index_config({"kdtree", {{"leaf_size", 0}}}, "index").is_ok());
  EXPECT_FALSE(normalize_index_config({"kdtree", {{"leaf_size", 4097}}}, "index").is_ok());
  EXPECT_TRUE(normalize_index_config({"kdtree", {{"leaf_size", 4096}}}, "index").is_ok());
  EXPECT_FALSE(
      normalize_index_config({"hnsw", {{"seed", (int64_t{1} << 53) + 1}}}, "index").is_ok());
}

TEST(RegistryTest, SearchParams) {
  EXPECT_TRUE(validate_search_params({}, "params").is_ok());
  EXPECT_TRUE(validate_search_params({10000, 65536}, "params").is_ok());
  EXPECT_EQ(fields(validate_search_params({0, std::nullopt}, "params")),
            (std::vector<std::string>{"params.ef"}));
  EXPECT_EQ(fields(validate_search_params({10001, 0}, "params")),
            (std::vector<std::string>{"params.ef", "params.nprobe"}));
  EXPECT_EQ(fields(validate_search_params({std::nullopt, 65537}, "params")),
            (std::vector<std::string>{"params.nprobe"}));
}

TEST(RegistryTest, BuildRejectsUnknownType) {
  auto r = build_index({"nope", {}}, Metric::kL2, {}, {});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace quiver::index
