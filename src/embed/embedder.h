// Server-side embeddings: texts in, vectors out.
//
// A library may name an embedder (EmbedderConfig); the engine then embeds chunk texts on
// write (InputType::kDocument) and query texts on search (InputType::kQuery), always
// OUTSIDE the library's write lock, so a slow provider never blocks searches or writers.
//
// Providers: "hash" (built in, offline, deterministic, lexical), "openai" (any
// OpenAI-compatible /v1/embeddings server), "cohere" (/v2/embed).
//
// Errors: kUpstreamError when the provider answered with an error (-> HTTP 502),
// kUpstreamTimeout when it did not answer in time (-> 504); the message names the provider.
// Thread-safety: an Embedder is safe for concurrent embed() calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace quiver::embed {

struct EmbedderConfig {
  std::string provider;                    // "hash", "openai", "cohere"
  std::string model;                       // provider's model name ("" allowed for hash)
  uint32_t dimension = 0;                  // vector size produced; 1..16384
  std::optional<std::string> base_url;     // provider endpoint; default per provider
  std::optional<std::string> api_key_env;  // NAME of the environment variable holding the key
  bool operator==(const EmbedderConfig&) const = default;
};

enum class InputType { kDocument, kQuery };

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual const EmbedderConfig& config() const = 0;
  // One vector of config().dimension floats per input text, in order.
  virtual Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts,
                                                        InputType type) = 0;
};

// Validates a config (known provider, dimension range, URL shape, env-var name syntax);
// field errors are named under `field_prefix` ("embedder" -> "embedder.dimension").
Status validate_config(const EmbedderConfig& config, std::string_view field_prefix);

// Creates the embedder for a validated config. Never reads the API key here: keys are read
// from the environment at call time, so rotating a key needs no restart.
Result<std::shared_ptr<Embedder>> make_embedder(const EmbedderConfig& config);

}  // namespace quiver::embed
