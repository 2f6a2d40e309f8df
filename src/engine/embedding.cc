#include "engine/embedding.h"

namespace quiver::engine {

Result<std::vector<std::vector<float>>> embed_texts(const embed::EmbedderConfig& config,
                                                    const std::vector<std::string>& texts,
                                                    embed::InputType type) {
#ifdef QUIVER_ENGINE_HAVE_EMBED
  auto embedder = embed::make_embedder(config);
  if (!embedder.is_ok()) return embedder.status();
  auto vectors = (*embedder)->embed(texts, type);
  if (!vectors.is_ok()) return vectors.status();
  if (vectors->size() != texts.size()) {
    return Status(StatusCode::kUpstreamError,
                  config.provider + " returned " + std::to_string(vectors->size()) +
                      " embeddings for " + std::to_string(texts.size()) + " texts");
  }
  for (const auto& v : *vectors) {
    if (v.size() != config.dimension) {
      return Status(StatusCode::kUpstreamError,
                    config.provider + " returned an embedding of " + std::to_string(v.size()) +
                        " numbers, expected " + std::to_string(config.dimension));
    }
  }
  return vectors;
#else
  (void)texts;
  (void)type;
  return Status::unavailable("server-side embeddings (" + config.provider +
                             ") are not built into this server");
#endif
}

}  // namespace quiver::engine
