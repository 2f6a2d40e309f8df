// Provider tests against tests/embed/fake_provider.py, a local HTTP server this test starts.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "embed/embedder.h"
#include "embed/http_client.h"
#include "embed/remote_embedder.h"

extern char** environ;

namespace quiver::embed {
namespace {

constexpr const char* kKeyVar = "QUIVER_EMBED_TEST_KEY";
constexpr const char* kKey = "sk-test-SECRET-0123456789";

// The fake server process; shared by every test in this file (started once).
class FakeProvider {
 public:
  bool start() {
    int out_pipe[2], in_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(in_pipe) != 0) return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
    posix_spawn_file_actions_addclose(&fa, in_pipe[1]);
    char arg0[] = "/usr/bin/python3";
    std::string script = QUIVER_FAKE_PROVIDER;
    char* argv[] = {arg0, script.data(), nullptr};
    const int rc = posix_spawn(&pid_, arg0, &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out_pipe[1]);
    close(in_pipe[0]);
    // Our end of its stdin: when this process dies, the pipe closes and the fake exits.
    stdin_fd_ = in_pipe[1];
    fcntl(stdin_fd_, F_SETFD, FD_CLOEXEC);
    if (rc != 0) return false;
    FILE* f = fdopen(out_pipe[0], "r");
    char line[128] = {0};
    const bool got = fgets(line, sizeof line, f) != nullptr;
    fclose(f);
    return got && std::sscanf(line, "PORT %d", &port_) == 1;
  }
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (stdin_fd_ >= 0) close(stdin_fd_);
    stdin_fd_ = -1;
  }
  std::string url(const std::string& prefix) const {
    return "http://127.0.0.1:" + std::to_string(port_) + prefix;
  }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
};

FakeProvider* g_fake = nullptr;

struct Recorded {
  std::string path;
  std::string authorization;  // "" when absent
  std::string body;           // the request body as JSON text
};

class ProviderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_fake = new FakeProvider();
    ASSERT_TRUE(g_fake->start()) << "could not start " << QUIVER_FAKE_PROVIDER;
  }
  static void TearDownTestSuite() {
    g_fake->stop();
    delete g_fake;
    g_fake = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(g_fake, nullptr);
    setenv(kKeyVar, kKey, 1);
    unsetenv("QUIVER_EMBED_TIMEOUT_MS");
    ASSERT_TRUE(control("/_reset").is_ok());
  }
  void TearDown() override { unsetenv("QUIVER_EMBED_TIMEOUT_MS"); }

  static Result<std::string> control(const std::string& path) {
    return post_json(HttpPost{.provider = "fake", .url = g_fake->url(path), .body = "{}"});
  }

  // Every embeddings request the fake saw since SetUp, in arrival order.
  static std::vector<Recorded> requests() {
    std::vector<Recorded> out;
    auto body = control("/_requests");
    EXPECT_TRUE(body.is_ok()) << body.status().to_string();
    if (!body.is_ok()) return out;
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(*body);
    for (simdjson::dom::element r : root.get_array()) {
      Recorded rec;
      rec.path = std::string(std::string_view(r["path"]));
      std::string_view auth;
      if (r["authorization"].get_string().get(auth) == simdjson::SUCCESS) rec.authorization = auth;
      rec.body = simdjson::minify(r["body"]);
      out.push_back(std::move(rec));
    }
    return out;
  }

  static EmbedderConfig cfg(const std::string& provider, const std::string& prefix,
                            uint32_t dim = 8) {
    return EmbedderConfig{.provider = provider, .model = "fake-model", .dimension = dim,
                          .base_url = g_fake->url(prefix), .api_key_env = std::string(kKeyVar)};
  }

  static std::shared_ptr<Embedder> make(const EmbedderConfig& c) {
    auto e = make_embedder(c);
    EXPECT_TRUE(e.is_ok()) << e.status().to_string();
    return e.is_ok() ? *e : nullptr;
  }

  static std::vector<std::string> numbered_texts(size_t n) {
    std::vector<std::string> t;
    for (size_t i = 0; i < n; ++i) t.push_back("text number " + std::to_string(i) + " w" +
                                               std::to_string(i * 7919 % 1000));
    return t;
  }
};

size_t count_in_array(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(json);
  return simdjson::dom::array(root[key]).size();
}

TEST_F(ProviderTest, OpenAIRequestShapeAuthAndOrderByIndex) {
  auto e = make(cfg("openai", "/mode/ok/tag/shape"));
  ASSERT_NE(e, nullptr);
  const std::vector<std::string> texts = {"hello world", "second \"quoted\" text", "third"};
  auto r = e->embed(texts, InputType::kDocument);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 3u);
  for (const auto& v : *r) EXPECT_EQ(v.size(), 8u);

  auto reqs = requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/mode/ok/tag/shape/v1/embeddings");
  EXPECT_EQ(reqs[0].authorization, std::string("Bearer ") + kKey);
  EXPECT_EQ(reqs[0].body,
            R"({"model":"fake-model","input":["hello world","second \"quoted\" text","third"]})");

  // The fake answers in reverse order; each text embedded alone must give the same vector.
  for (size_t i = 0; i < texts.size(); ++i) {
    auto one = e->embed({texts[i]}, InputType::kQuery);
    ASSERT_TRUE(one.is_ok());
    EXPECT_EQ((*one)[0], (*r)[i]) << i;
  }
  EXPECT_NE((*r)[0], (*r)[2]);
}

TEST_F(ProviderTest, NoAuthHeaderWithoutApiKeyEnv) {
  EmbedderConfig c = cfg("openai", "/mode/ok/tag/noauth");
  c.api_key_env.reset();
  auto r = make(c)->embed({"x"}, InputType::kDocument);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  auto reqs = requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].authorization, "");
}

TEST_F(ProviderTest, CohereRequestShapePerInputType) {
  auto e = make(cfg("cohere", "/mode/ok/dim/5/tag/cohere", 5));
  ASSERT_NE(e, nullptr);
  auto d = e->embed({"doc one", "doc two"}, InputType::kDocument);
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  auto q = e->embed({"query"}, InputType::kQuery);
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  EXPECT_EQ(d->size(), 2u);
  EXPECT_EQ((*q)[0].size(), 5u);
  auto reqs = requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/mode/ok/dim/5/tag/cohere/v2/embed");
  EXPECT_EQ(reqs[0].authorization, std::string("Bearer ") + kKey);
  EXPECT_EQ(reqs[0].body, R"({"model":"fake-model","texts":["doc one","doc two"],)"
                          R"("input_type":"search_document","embedding_types":["float"]})");
  EXPECT_EQ(reqs[1].body, R"({"model":"fake-model","texts":["query"],)"
                          R"("input_type":"search_query","embedding_types":["float"]})");
}

TEST_F(ProviderTest, OpenAIBatchesOf256InOrder) {
  auto e = make(cfg("openai", "/mode/ok/tag/batch"));
  const auto texts = numbered_texts(600);
  auto r = e->embed(texts, InputType::kDocument);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 600u);
  auto reqs = requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(count_in_array(reqs[0].body, "input"), 256u);
  EXPECT_EQ(count_in_array(reqs[1].body, "input"), 256u);
  EXPECT_EQ(count_in_array(reqs[2].body, "input"), 88u);
  for (size_t i : {0u, 255u, 256u, 511u, 512u, 599u}) {
    auto one = e->embed({texts[i]}, InputType::kDocument);
    ASSERT_TRUE(one.is_ok());
    EXPECT_EQ((*one)[0], (*r)[i]) << i;
  }
}

TEST_F(ProviderTest, CohereBatchesOf96) {
  auto e = make(cfg("cohere", "/mode/ok/tag/cbatch"));
  const auto texts = numbered_texts(200);
  auto r = e->embed(texts, InputType::kDocument);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 200u);
  auto reqs = requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(count_in_array(reqs[0].body, "texts"), 96u);
  EXPECT_EQ(count_in_array(reqs[1].body, "texts"), 96u);
  EXPECT_EQ(count_in_array(reqs[2].body, "texts"), 8u);
  auto one = e->embed({texts[150]}, InputType::kDocument);
  ASSERT_TRUE(one.is_ok());
  EXPECT_EQ((*one)[0], (*r)[150]);
}

TEST_F(ProviderTest, RetriesAfter429ThenSucceeds) {
  for (const char* provider : {"openai", "cohere"}) {
    ASSERT_TRUE(control("/_reset").is_ok());
    auto r = make(cfg(provider, "/mode/429once/tag/r"))->embed({"a", "b"}, InputType::kDocument);
    ASSERT_TRUE(r.is_ok()) << provider << ": " << r.status().to_string();
    EXPECT_EQ(r->size(), 2u);
    EXPECT_EQ(requests().size(), 2u) << provider;
  }
}

TEST_F(ProviderTest, RetriesAfter503ThenSucceeds) {
  auto r = make(cfg("openai", "/mode/503once/tag/r"))->embed({"a"}, InputType::kDocument);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(requests().size(), 2u);
}

TEST_F(ProviderTest, PermanentFailureIsUpstreamErrorAfterMaxAttempts) {
  for (const char* provider : {"openai", "cohere"}) {
    ASSERT_TRUE(control("/_reset").is_ok());
    auto r = make(cfg(provider, "/mode/500/tag/p"))->embed({"a"}, InputType::kDocument);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUpstreamError);
    const std::string msg = r.status().message();
    EXPECT_NE(msg.find(provider), std::string::npos) << msg;
    EXPECT_NE(msg.find("500"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fake provider failure"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(kKey), std::string::npos) << msg;
    EXPECT_EQ(requests().size(), static_cast<size_t>(kMaxAttempts)) << provider;
  }
}

TEST_F(ProviderTest, RetryAfterIsHonoured) {
  // Retry-After: 0 -> retried immediately until the attempts run out.
  auto r = make(cfg("openai", "/mode/429/retryafter/0/tag/a"))->embed({"a"}, InputType::kDocument);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstreamError);
  EXPECT_NE(r.status().message().find("429"), std::string::npos) << r.status().message();
  EXPECT_EQ(requests().size(), static_cast<size_t>(kMaxAttempts));

  // Retry-After: 100 (capped at 10 s) does not fit in the 2 x 1 s budget: give up at once
  // instead of sleeping past the deadline or retrying early against the provider's wish.
  ASSERT_TRUE(control("/_reset").is_ok());
  setenv("QUIVER_EMBED_TIMEOUT_MS", "1000", 1);
  r = make(cfg("openai", "/mode/429/retryafter/100/tag/b"))->embed({"a"}, InputType::kDocument);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstreamError);
  EXPECT_EQ(requests().size(), 1u);
}

TEST_F(ProviderTest, SlowProviderIsUpstreamTimeout) {
  setenv("QUIVER_EMBED_TIMEOUT_MS", "300", 1);
  auto r = make(cfg("openai", "/mode/slow/sleep/3/tag/s"))->embed({"a"}, InputType::kDocument);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstreamTimeout) << r.status().to_string();
  EXPECT_NE(r.status().message().find("openai"), std::string::npos);
  EXPECT_GE(requests().size(), 1u);
}

TEST_F(ProviderTest, BadResponsesAreUpstreamErrors) {
  struct Case {
    const char* prefix;
    const char* expect;
  };
  for (const Case& c : {Case{"/mode/wrongdim", "expected 8"}, Case{"/mode/short", "7 embeddings"},
                        Case{"/mode/badjson", "not valid JSON"}}) {
    for (const char* provider : {"openai", "cohere"}) {
      ASSERT_TRUE(control("/_reset").is_ok());
      auto r = make(cfg(provider, c.prefix))->embed(numbered_texts(8), InputType::kDocument);
      ASSERT_FALSE(r.is_ok()) << c.prefix;
      EXPECT_EQ(r.status().code(), StatusCode::kUpstreamError);
      EXPECT_NE(r.status().message().find(provider), std::string::npos) << r.status().message();
      EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
      EXPECT_EQ(requests().size(), 1u) << "a malformed 200 is not retried";
    }
  }
}

TEST_F(ProviderTest, AuthFailureIsNotRetriedAndNeverEchoesTheKey) {
  auto r = make(cfg("openai", "/mode/401"))->embed({"a"}, InputType::kDocument);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstreamError);
  EXPECT_NE(r.status().message().find("401"), std::string::npos);
  EXPECT_EQ(r.status().message().find(kKey), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("SECRET"), std::string::npos) << r.status().message();
  EXPECT_EQ(requests().size(), 1u);
}

TEST_F(ProviderTest, MissingKeyVariableNamesTheVariable) {
  unsetenv(kKeyVar);
  auto r = make(cfg("cohere", "/mode/ok"))->embed({"a"}, InputType::kDocument);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUpstreamError);
  EXPECT_NE(r.status().message().find(kKeyVar), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("cohere"), std::string::npos);
  EXPECT_TRUE(requests().empty());
  // The key is read at call time: setting it now makes the same embedder work.
  setenv(kKeyVar, "rotated-key", 1);
  auto e = make(cfg("cohere", "/mode/ok"));
  ASSERT_TRUE(e->embed({"a"}, InputType::kDocument).is_ok());
  auto reqs = requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].authorization, "Bearer rotated-key");
}

TEST_F(ProviderTest, ConnectionRefusedIsUpstreamError) {
  setenv("QUIVER_EMBED_TIMEOUT_MS", "2000", 1);
  EmbedderConfig c = cfg("openai", "");
  c.base_url = "http://127.0.0.1:1";  // nothing listens on port 1
  auto r = make(c)->embed({"a"}, InputType::kDocument);
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(r.status().code() == StatusCode::kUpstreamError ||
              r.status().code() == StatusCode::kUpstreamTimeout)
      << r.status().to_string();
  EXPECT_NE(r.status().message().find("openai"), std::string::npos);
}

TEST_F(ProviderTest, ConcurrentCallsAllSucceed) {
  auto e = make(cfg("openai", "/mode/ok/tag/conc"));
  const auto texts = numbered_texts(20);
  auto want = e->embed(texts, InputType::kDocument);
  ASSERT_TRUE(want.is_ok());
  std::vector<std::thread> threads;
  std::vector<int> ok(16, 0);
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      auto got = e->embed(texts, InputType::kDocument);
      ok[t] = got.is_ok() && *got == *want;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 16; ++t) EXPECT_EQ(ok[t], 1) << t;
  EXPECT_EQ(requests().size(), 17u);
}

TEST(ProviderErrorMessage, ExtractsCommonShapes) {
  EXPECT_EQ(provider_error_message(R"({"error":{"message":"bad model"}})"), "bad model");
  EXPECT_EQ(provider_error_message(R"({"error":"model not found"})"), "model not found");
  EXPECT_EQ(provider_error_message(R"({"message":"invalid request"})"), "invalid request");
  EXPECT_EQ(provider_error_message("<html>502</html>"), "");
  EXPECT_EQ(provider_error_message(R"({"message":"abcdef"})", 3), "abc...");
}

}  // namespace
}  // namespace quiver::embed
