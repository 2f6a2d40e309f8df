#include "embed/remote_embedder.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <utility>

#include "embed/http_client.h"
#include "embed/json_text.h"

namespace quiver::embed {
namespace {

Status upstream(std::string_view provider, std::string_view why) {
  return Status(StatusCode::kUpstreamError, fmt::format("{}: {}", provider, why));
}

// base_url + path, tolerating a trailing '/' and a base that already ends in the version
// segment ("http://localhost:11434/v1" is how many OpenAI SDK examples spell it).
std::string endpoint_url(std::string_view base, std::string_view version, std::string_view leaf) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string url(base);
  const bool has_version = base.size() > version.size() &&
                           base.substr(base.size() - version.size()) == version &&
                           base[base.size() - version.size() - 1] == '/';
  if (!has_version) {
    url.push_back('/');
    url.append(version);
  }
  url.push_back('/');
  url.append(leaf);
  return url;
}

// Appends ["t0","t1",...] for texts[begin, end).
void append_string_array(std::string* out, const std::vector<std::string>& texts, size_t begin,
                         size_t end) {
  out->push_back('[');
  for (size_t i = begin; i < end; ++i) {
    if (i != begin) out->push_back(',');
    append_json_string(out, texts[i]);
  }
  out->push_back(']');
}

// Reads one embedding (a JSON array of exactly `dimension` finite numbers) into `*v`.
Status read_vector(simdjson::dom::element e, uint32_t dimension, std::string_view provider,
                   size_t i, std::vector<float>* v) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) {
    return upstream(provider, fmt::format("embedding {} is not an array of numbers", i));
  }
  v->clear();
  v->reserve(dimension);
  size_t count = 0;
  for (simdjson::dom::element x : arr) {
    double d = 0;
    if (x.get_double().get(d) != simdjson::SUCCESS) {
      return upstream(provider, fmt::format("embedding {} contains a non-number", i));
    }
    const auto f = static_cast<float>(d);
    if (!std::isfinite(f)) {
      return upstream(provider, fmt::format("embedding {} contains a non-finite number", i));
    }
    if (count < dimension) v->push_back(f);
    ++count;
  }
  if (count != dimension) {
    return upstream(provider,
                    fmt::format("embedding {} has {} numbers, expected {} (the embedder's "
                                "dimension must match the model's output size)",
                                i, count, dimension));
  }
  return Status::ok();
}

Status parse_root(simdjson::dom::parser& parser, std::string_view body, std::string_view provider,
                  simdjson::dom::element* root) {
  if (parser.parse(body.data(), body.size()).get(*root) != simdjson::SUCCESS) {
    return upstream(provider, "response is not valid JSON");
  }
  return Status::ok();
}

}  // namespace

std::string openai_request_body(const EmbedderConfig& config, const std::vector<std::string>& texts,
                                size_t begin, size_t end) {
  std::string body = "{\"model\":";
  append_json_string(&body, config.model);
  body += ",\"input\":";
  append_string_array(&body, texts, begin, end);
  // `dimensions` is only understood by OpenAI's text-embedding-3 family (which can shorten its
  // output); other models and many compatible servers reject or ignore it, so it is sent only
  // there.
  if (config.model.rfind("text-embedding-3", 0) == 0) {
    body += fmt::format(",\"dimensions\":{}", config.dimension);
  }
  body += '}';
  return body;
}

std::string cohere_request_body(const EmbedderConfig& config, const std::vector<std::string>& texts,
                                size_t begin, size_t end, InputType type) {
  std::string body = "{\"model\":";
  append_json_string(&body, config.model);
  body += ",\"texts\":";
  append_string_array(&body, texts, begin, end);
  body += ",\"input_type\":";
  body += type == InputType::kQuery ? "\"search_query\"" : "\"search_document\"";
  body += ",\"embedding_types\":[\"float\"]}";
  return body;
}

Status parse_openai_response(std::string_view body, size_t n, uint32_t dimension,
                             std::string_view provider, std::vector<std::vector<float>>* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  QUIVER_RETURN_IF_ERROR(parse_root(parser, body, provider, &root));
  simdjson::dom::array data;
  if (root["data"].get_array().get(data) != simdjson::SUCCESS) {
    return upstream(provider, "response has no \"data\" array");
  }
  std::vector<std::vector<float>> batch(n);
  std::vector<bool> seen(n, false);
  size_t pos = 0;
  for (simdjson::dom::element item : data) {
    if (pos >= n) return upstream(provider, fmt::format("returned more than {} embeddings", n));
    // Results are matched to inputs by `index`, not by position: the API does not promise
    // to keep them in order. A server that omits `index` is taken to answer in order.
    uint64_t index = pos;
    simdjson::dom::element idx;
    if (item["index"].get(idx) == simdjson::SUCCESS &&
        idx.get_uint64().get(index) != simdjson::SUCCESS) {
      return upstream(provider, "an embedding has a non-integer \"index\"");
    }
    if (index >= n || seen[index]) {
      return upstream(provider, fmt::format("embedding index {} is out of range or repeated",
                                            index));
    }
    simdjson::dom::element emb;
    if (item["embedding"].get(emb) != simdjson::SUCCESS) {
      return upstream(provider, fmt::format("embedding {} is missing", index));
    }
    QUIVER_RETURN_IF_ERROR(read_vector(emb, dimension, provider, index, &batch[index]));
    seen[index] = true;
    ++pos;
  }
  if (pos != n) {
    return upstream(provider, fmt::format("returned {} embeddings for {} inputs", pos, n));
  }
  for (auto& v : batch) out->push_back(std::move(v));
  return Status::ok();
}

Status parse_cohere_response(std::string_view body, size_t n, uint32_t dimension,
                             std::string_view provider, std::vector<std::vector<float>>* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  QUIVER_RETURN_IF_ERROR(parse_root(parser, body, provider, &root));
  simdjson::dom::array floats;
  if (root["embeddings"]["float"].get_array().get(floats) != simdjson::SUCCESS) {
    return upstream(provider, "response has no \"embeddings.float\" array");
  }
  std::vector<std::vector<float>> batch;
  batch.reserve(n);
  for (simdjson::dom::element e : floats) {
    if (batch.size() >= n) {
      return upstream(provider, fmt::format("returned more than {} embeddings", n));
    }
    batch.emplace_back();
    QUIVER_RETURN_IF_ERROR(read_vector(e, dimension, provider, batch.size() - 1, &batch.back()));
  }
  if (batch.size() != n) {
    return upstream(provider, fmt::format("returned {} embeddings for {} inputs", batch.size(), n));
  }
  for (auto& v : batch) out->push_back(std::move(v));
  return Status::ok();
}

RemoteEmbedder::RemoteEmbedder(EmbedderConfig config, ApiFlavor flavor)
    : config_(std::move(config)), flavor_(flavor) {
  if (flavor_ == ApiFlavor::kOpenAI) {
    url_ = endpoint_url(config_.base_url.value_or(std::string(kOpenAIDefaultBaseUrl)), "v1",
                        "embeddings");
  } else {
    url_ = endpoint_url(config_.base_url.value_or(std::string(kCohereDefaultBaseUrl)), "v2",
                        "embed");
  }
}

Result<std::vector<std::vector<float>>> RemoteEmbedder::embed(
    const std::vector<std::string>& texts, InputType type) {
  std::vector<std::vector<float>> out;
  if (texts.empty()) return out;
  out.reserve(texts.size());

  HttpPost req;
  req.provider = config_.provider;
  req.url = url_;
  if (config_.api_key_env) {
    // Read now, not at construction, so a rotated key takes effect without a restart.
    const char* key = std::getenv(config_.api_key_env->c_str());
    if (key == nullptr || *key == '\0') {
      return upstream(config_.provider,
                      fmt::format("environment variable {} (api_key_env) is not set on the "
                                  "server",
                                  *config_.api_key_env));
    }
    req.headers.push_back(std::string("Authorization: Bearer ") + key);
  }

  const size_t batch = flavor_ == ApiFlavor::kOpenAI ? kOpenAIBatch : kCohereBatch;
  for (size_t begin = 0; begin < texts.size(); begin += batch) {
    const size_t end = std::min(texts.size(), begin + batch);
    req.body = flavor_ == ApiFlavor::kOpenAI ? openai_request_body(config_, texts, begin, end)
                                             : cohere_request_body(config_, texts, begin, end, type);
    QUIVER_ASSIGN_OR_RETURN(std::string body, post_json(req));
    if (flavor_ == ApiFlavor::kOpenAI) {
      QUIVER_RETURN_IF_ERROR(
          parse_openai_response(body, end - begin, config_.dimension, config_.provider, &out));
    } else {
      QUIVER_RETURN_IF_ERROR(
          parse_cohere_response(body, end - begin, config_.dimension, config_.provider, &out));
    }
  }
  return out;
}

}  // namespace quiver::embed
