#include "embed/embedder.h"

#include <memory>
#include <string>

#include "embed/hash_embedder.h"
#include "embed/remote_embedder.h"

namespace quiver::embed {
namespace {

constexpr uint32_t kMaxDimension = 16384;
constexpr size_t kMaxBaseUrlBytes = 2048;  // exclusive
constexpr size_t kMaxModelBytes = 512;
constexpr size_t kMaxEnvNameBytes = 128;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// ^[A-Za-z_][A-Za-z0-9_]{0,127}$
bool is_valid_env_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxEnvNameBytes) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool has_control_or_space(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return true;
  }
  return false;
}

}  // namespace

Status validate_config(const EmbedderConfig& config, std::string_view field_prefix) {
  const std::string p(field_prefix);
  auto field = [&p](const char* name) { return p.empty() ? std::string(name) : p + "." + name; };
  std::vector<FieldError> errors;

  const bool remote = config.provider == "openai" || config.provider == "cohere";
  if (config.provider != "hash" && !remote) {
    errors.push_back({field("provider"), "must be one of \"hash\", \"openai\", \"cohere\""});
  }
  if (config.dimension < 1 || config.dimension > kMaxDimension) {
    errors.push_back({field("dimension"), "must be an integer in 1..16384"});
  }
  if (remote && config.model.empty()) {
    errors.push_back({field("model"), "required for provider \"" + config.provider + "\""});
  } else if (config.model.size() > kMaxModelBytes) {
    errors.push_back({field("model"), "must be at most 512 bytes"});
  }
  if (config.base_url) {
    const std::string& url = *config.base_url;
    if (!(starts_with(url, "http://") || starts_with(url, "https://"))) {
      errors.push_back({field("base_url"), "must start with http:// or https://"});
    } else if (url.size() >= kMaxBaseUrlBytes) {
      errors.push_back({field("base_url"), "must be shorter than 2048 bytes"});
    } else if (has_control_or_space(url) || url.find_first_of("?#") != std::string::npos) {
      // The endpoint path is appended to the base, so a query or fragment would swallow it.
      errors.push_back({field("base_url"), "must be a plain URL without spaces, '?' or '#'"});
    }
  }
  if (config.api_key_env && !is_valid_env_name(*config.api_key_env)) {
    errors.push_back({field("api_key_env"),
                      "must be an environment variable name matching "
                      "^[A-Za-z_][A-Za-z0-9_]{0,127}$ (the NAME of the variable, not the key)"});
  }
  if (errors.empty()) return Status::ok();
  std::string msg = "invalid embedder: " + errors.front().field + ": " + errors.front().message;
  if (errors.size() > 1) msg += " (and " + std::to_string(errors.size() - 1) + " more)";
  return Status::invalid(std::move(msg), std::move(errors));
}

Result<std::shared_ptr<Embedder>> make_embedder(const EmbedderConfig& config) {
  QUIVER_RETURN_IF_ERROR(validate_config(config, "embedder"));
  if (config.provider == "hash") return std::shared_ptr<Embedder>(std::make_shared<HashEmbedder>(config));
  const ApiFlavor flavor = config.provider == "openai" ? ApiFlavor::kOpenAI : ApiFlavor::kCohere;
  return std::shared_ptr<Embedder>(std::make_shared<RemoteEmbedder>(config, flavor));
}

}  // namespace quiver::embed
