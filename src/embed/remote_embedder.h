// Embedders backed by an HTTP provider: any OpenAI-compatible `/v1/embeddings` server
// (OpenAI, Ollama, vLLM, llama.cpp server, HF TEI) and Cohere's `/v2/embed`.
//
// Inputs are sent in batches (kOpenAIBatch / kCohereBatch texts per call, sequentially, results
// concatenated in order). The API key is read from the environment variable named by
// config.api_key_env on every call and is never stored, logged or put into an error.
//
// Thread-safety: RemoteEmbedder is immutable after construction; embed() is safe concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "embed/embedder.h"

namespace quiver::embed {

inline constexpr size_t kOpenAIBatch = 256;
inline constexpr size_t kCohereBatch = 96;
inline constexpr std::string_view kOpenAIDefaultBaseUrl = "https://api.openai.com";
inline constexpr std::string_view kCohereDefaultBaseUrl = "https://api.cohere.com";

enum class ApiFlavor { kOpenAI, kCohere };

class RemoteEmbedder final : public Embedder {
 public:
  // REQUIRES: config validated; config.provider matches `flavor`.
  RemoteEmbedder(EmbedderConfig config, ApiFlavor flavor);
  const EmbedderConfig& config() const override { return config_; }
  Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts,
                                                InputType type) override;

  // The endpoint URL used for this config (exposed for tests and logs).
  const std::string& url() const { return url_; }

 private:
  EmbedderConfig config_;
  ApiFlavor flavor_;
  std::string url_;
};

// Request bodies for texts[begin, end). Exposed for tests.
std::string openai_request_body(const EmbedderConfig& config, const std::vector<std::string>& texts,
                                size_t begin, size_t end);
std::string cohere_request_body(const EmbedderConfig& config, const std::vector<std::string>& texts,
                                size_t begin, size_t end, InputType type);

// Parse a response holding `n` embeddings of config.dimension floats each and append them to
// `*out` in input order. Any shape error, count mismatch, wrong length or non-finite number is
// kUpstreamError naming `provider`. Exposed for tests.
Status parse_openai_response(std::string_view body, size_t n, uint32_t dimension,
                             std::string_view provider, std::vector<std::vector<float>>* out);
Status parse_cohere_response(std::string_view body, size_t n, uint32_t dimension,
                             std::string_view provider, std::vector<std::vector<float>>* out);

}  // namespace quiver::embed
