// The engine's one call into server-side embeddings, isolated so that building without
// quiver_embed only swaps this file's body (QUIVER_ENGINE_HAVE_EMBED).
// Thread-safety: safe to call concurrently. Never call it with a lock held: providers are
// remote and may be slow.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "embed/embedder.h"

namespace quiver::engine {

// One vector per text, in order; the provider's failure status passes through unchanged.
Result<std::vector<std::vector<float>>> embed_texts(const embed::EmbedderConfig& config,
                                                    const std::vector<std::string>& texts,
                                                    embed::InputType type);

}  // namespace quiver::engine
