// The built-in "hash" embedder: offline, deterministic, lexical (NOT semantic).
//
// A text becomes a bag of features -- word unigrams, word bigrams and character trigrams of
// each word padded with boundary marks -- and each feature is added, with a sign taken from
// its hash, to one of `dimension` buckets ("signed feature hashing"); the result is
// L2-normalized. Texts that share words or word pieces therefore get a high cosine; texts that
// mean the same thing in different words do not. The hash (FNV-1a 64 + a 64-bit finalizer) is
// written here, not std::hash, so vectors are identical across processes, builds and machines:
// stored vectors stay valid after an upgrade. Changing anything here changes every vector, so
// it would need a new model name ("hash-v2").
//
// Thread-safety: HashEmbedder is immutable after construction; embed() is safe concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "embed/embedder.h"

namespace quiver::embed {

// The model name reported for the hash embedder (the configured model is ignored).
inline constexpr std::string_view kHashModelName = "hash-v1";

// Stable 64-bit hash of `bytes` (FNV-1a followed by a murmur-style finalizer for avalanche).
// Exposed so tests can pin golden values.
uint64_t stable_hash64(std::string_view bytes);

// Splits `text` into normalized words: ASCII letters lower-cased, ASCII digits kept, every
// other ASCII byte a separator, bytes >= 0x80 (UTF-8 sequences, valid or not) word bytes.
std::vector<std::string> hash_tokenize(std::string_view text);

// Embeds one text into `out` (`dimension` floats, resized here). The result has unit L2 norm.
// Text with no word after normalization (empty, whitespace, punctuation only) maps to the
// fixed vector with every component 1/sqrt(dimension), so cosine never divides by zero.
// REQUIRES: dimension >= 1.
void hash_embed_text(std::string_view text, uint32_t dimension, std::vector<float>* out);

class HashEmbedder final : public Embedder {
 public:
  // REQUIRES: config validated (dimension in 1..16384).
  explicit HashEmbedder(EmbedderConfig config);
  const EmbedderConfig& config() const override { return config_; }
  // Never fails. The input type is ignored (documents and queries embed the same way).
  Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts,
                                                InputType type) override;

 private:
  EmbedderConfig config_;
};

}  // namespace quiver::embed
