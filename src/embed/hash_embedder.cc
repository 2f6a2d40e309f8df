#include "embed/hash_embedder.h"

#include <cmath>
#include <utility>

namespace quiver::embed {
namespace {

// Feature weights: a whole-word match is the strongest evidence, a word pair next; trigrams
// are many per word, so each one weighs little, but together they reward shared stems
// ("index" / "indexes") and survive typos.
constexpr float kUnigramWeight = 1.0f;
constexpr float kBigramWeight = 0.7f;
constexpr float kTrigramWeight = 0.25f;

// Distinct one-byte tags keep the three feature families in separate hash spaces, so the word
// "abc" and the trigram "abc" do not collide by construction.
constexpr char kUnigramTag = 'u';
constexpr char kBigramTag = 'b';
constexpr char kTrigramTag = 't';
// Boundary marks for trigrams; both are ASCII punctuation, which never occurs inside a word.
constexpr char kWordStart = '<';
constexpr char kWordEnd = '>';

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void add_feature(std::string_view feature, float weight, uint32_t dimension, float* v) {
  const uint64_t h = stable_hash64(feature);
  // Multiply-shift on the low 32 bits maps uniformly onto [0, dimension) without a modulo
  // bias; the top bit, independent of those, gives the sign.
  const uint32_t bucket =
      static_cast<uint32_t>(((h & 0xffffffffULL) * static_cast<uint64_t>(dimension)) >> 32);
  v[bucket] += (h >> 63) != 0 ? -weight : weight;
}

// Splits a padded word into "characters": a UTF-8 lead byte (or any ASCII byte) starts a new
// unit, continuation bytes (10xxxxxx) extend the current one. Invalid sequences still split
// deterministically (a stray continuation byte joins its predecessor), which is all we need.
std::vector<std::string_view> char_units(std::string_view s) {
  std::vector<std::string_view> units;
  size_t start = 0;
  for (size_t i = 1; i <= s.size(); ++i) {
    if (i == s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      units.push_back(s.substr(start, i - start));
      start = i;
    }
  }
  return units;
}

void fill_fixed_unit(uint32_t dimension, float* v) {
  const float c = 1.0f / std::sqrt(static_cast<float>(dimension));
  for (uint32_t i = 0; i < dimension; ++i) v[i] = c;
}

}  // namespace

uint64_t stable_hash64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  // FNV's low bits mix poorly for short inputs; a 64-bit finalizer (xor-shift / multiply)
  // spreads every input bit over the whole word before we cut buckets and signs from it.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::vector<std::string> hash_tokenize(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      cur.push_back(ch);
    } else if (is_ascii_alnum(c)) {
      cur.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

void hash_embed_text(std::string_view text, uint32_t dimension, std::vector<float>* out) {
  out->assign(dimension, 0.0f);
  float* v = out->data();
  const std::vector<std::string> words = hash_tokenize(text);
  if (words.empty()) {
    fill_fixed_unit(dimension, v);
    return;
  }
  std::string feature;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    feature.assign(1, kUnigramTag);
    feature += w;
    add_feature(feature, kUnigramWeight, dimension, v);
    if (i + 1 < words.size()) {
      feature.assign(1, kBigramTag);
      feature += w;
      feature += ' ';
      feature += words[i + 1];
      add_feature(feature, kBigramWeight, dimension, v);
    }
    std::string padded;
    padded.reserve(w.size() + 2);
    padded += kWordStart;
    padded += w;
    padded += kWordEnd;
    const std::vector<std::string_view> units = char_units(padded);
    // A one-character word has exactly one trigram "<c>"; char_units always yields >= 3.
    for (size_t j = 0; j + 3 <= units.size(); ++j) {
      feature.assign(1, kTrigramTag);
      for (size_t k = j; k < j + 3; ++k) feature.append(units[k]);
      add_feature(feature, kTrigramWeight, dimension, v);
    }
  }
  double norm2 = 0.0;
  for (uint32_t i = 0; i < dimension; ++i) norm2 += static_cast<double>(v[i]) * v[i];
  if (!(norm2 > 0.0)) {
    // Every feature cancelled out (opposite signs in one bucket, likely only at tiny
    // dimensions): fall back to the fixed vector rather than return zeros.
    fill_fixed_unit(dimension, v);
    return;
  }
  const auto inv = static_cast<float>(1.0 / std::sqrt(norm2));
  for (uint32_t i = 0; i < dimension; ++i) v[i] *= inv;
}

HashEmbedder::HashEmbedder(EmbedderConfig config) : config_(std::move(config)) {}

Result<std::vector<std::vector<float>>> HashEmbedder::embed(
    const std::vector<std::string>& texts, InputType /*type*/) {
  std::vector<std::vector<float>> out(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) hash_embed_text(texts[i], config_.dimension, &out[i]);
  return out;
}

}  // namespace quiver::embed
