// quiverd: the Quiver server process.
//
// Start-up order: bind and listen first (so /healthz answers and the port is known at
// once), then open the database on a background thread; until it is open /readyz and
// every /v1 route answer 503. Shutdown on SIGTERM/SIGINT: stop accepting, /readyz -> 503,
// let in-flight requests finish (bounded), stop the workers, then destroy the Database
// (which closes RocksDB cleanly) and exit 0. A second signal exits at once.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "api/api.h"
#include "engine/database.h"
#include "server/http_server.h"

namespace {

using namespace quiver;

constexpr auto kDrainTimeout = std::chrono::seconds(10);

// One-shot "please stop, with this exit code" shared by signals and the opener thread.
class ShutdownLatch {
 public:
  void request(int exit_code) {
    std::lock_guard<std::mutex> lock(mu_);
    if (requested_) return;
    requested_ = true;
    exit_code_ = exit_code;
    cv_.notify_all();
  }
  int wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return requested_; });
    return exit_code_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;  // GUARDED_BY(mu_)
  int exit_code_ = 0;       // GUARDED_BY(mu_)
};

struct Config {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  std::string data_dir = "./data";
  unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::string durability = "fsync";
  std::string log_level = "info";
  std::size_t max_body_bytes = 64u << 20;
  uint32_t seal_threshold = engine::Options().seal_threshold;
  unsigned build_threads = engine::Options().build_threads;
  double vacuum_deleted_fraction = engine::Options().vacuum_deleted_fraction;
};

void add_flags(CLI::App& app, Config& c) {
  app.add_option("--address", c.address, "IP address to listen on")
      ->envname("QUIVER_ADDRESS")->capture_default_str();
  app.add_option("--port", c.port, "TCP port; 0 picks a free one (see the 'listening on' log line)")
      ->envname("QUIVER_PORT")->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "Directory holding the database (created if missing)")
      ->envname("QUIVER_DATA_DIR")->capture_default_str();
  app.add_option("--threads", c.threads, "HTTP worker threads (default: hardware cores, min 2)")
      ->envname("QUIVER_THREADS")->check(CLI::Range(1u, 1024u))->capture_default_str();
  app.add_option("--durability", c.durability,
                 "fsync: a write is acknowledged after it is fsynced (survives power loss). "
                 "os: acknowledged once in the OS page cache; faster, but acknowledged writes "
                 "can be lost on power failure or kernel crash (not on a process crash)")
      ->envname("QUIVER_DURABILITY")->check(CLI::IsMember({"fsync", "os"}))->capture_default_str();
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error, critical or off")
      ->envname("QUIVER_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--max-body-bytes", c.max_body_bytes,
                 "Largest accepted request body in bytes; larger bodies get 413")
      ->envname("QUIVER_MAX_BODY_BYTES")->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32))
      ->capture_default_str();
  app.add_option("--seal-threshold", c.seal_threshold,
                 "Rows in a library's appendable segment before it is sealed and indexed")
      ->envname("QUIVER_SEAL_THRESHOLD")->check(CLI::Range(1u, 1u << 30))->capture_default_str();
  app.add_option("--build-threads", c.build_threads, "Threads an index build may use")
      ->envname("QUIVER_BUILD_THREADS")->check(CLI::Range(1u, 1024u))->capture_default_str();
  app.add_option("--vacuum-deleted-fraction", c.vacuum_deleted_fraction,
                 "A sealed segment whose deleted rows pass this fraction is rewritten without them")
      ->envname("QUIVER_VACUUM_DELETED_FRACTION")->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  const api::BuildInfo info = api::build_info();
  CLI::App app{"quiverd: the Quiver vector database server"};
  app.set_version_flag("--version", "quiverd " + info.version + " (" + info.git_sha + ")");
  add_flags(app, config);
  CLI11_PARSE(app, argc, argv);

  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%t] %v");

  engine::Options engine_options;
  engine_options.data_dir = config.data_dir;
  engine_options.durability =
      config.durability == "os" ? engine::Durability::kOs : engine::Durability::kFsync;
  engine_options.seal_threshold = config.seal_threshold;
  engine_options.build_threads = config.build_threads;
  engine_options.vacuum_deleted_fraction = config.vacuum_deleted_fraction;

  server::ServerOptions server_options;
  server_options.address = config.address;
  server_options.port = config.port;
  server_options.max_body_bytes = config.max_body_bytes;

  boost::asio::io_context ioc(static_cast<int>(config.threads));
  api::Api api;
  server::HttpServer server(ioc, server_options,
                            [&api](const api::HttpRequest& r) { return api.handle(r); });
  Result<uint16_t> port = server.listen();
  if (!port.is_ok()) {
    spdlog::error("{}", port.status().message());
    return 1;
  }
  // Tools and tests read the port from this line, so it is printed whatever the log level.
  if (spdlog::should_log(spdlog::level::info)) {
    spdlog::info("quiverd {} ({}) listening on {}:{}", info.version, info.git_sha, config.address,
                 *port);
  } else {
    fmt::print(stdout, "quiverd {} ({}) listening on {}:{}\n", info.version, info.git_sha,
               config.address, *port);
    std::fflush(stdout);
  }

  ShutdownLatch latch;
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        static std::atomic<int> count{0};
        if (count.fetch_add(1) > 0) {
          spdlog::warn("second signal {}: exiting without draining", sig);
          std::_Exit(1);
        }
        spdlog::info("signal {}: shutting down", sig);
        latch.request(0);
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  auto work = boost::asio::make_work_guard(ioc);
  server.start_accepting();
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < config.threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });

  // Open (and recover) the database in the background so the port serves /healthz and
  // /readyz meanwhile.
  std::unique_ptr<engine::Database> db;
  std::thread opener([&] {
    const auto start = std::chrono::steady_clock::now();
    auto opened = engine::Database::open(engine_options);
    if (!opened.is_ok()) {
      spdlog::error("cannot open the database in {}: {}", engine_options.data_dir,
                    opened.status().to_string());
      latch.request(1);
      return;
    }
    db = std::move(opened).value();
    api.set_database(db.get());
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start).count();
    spdlog::info("database open in {} ({} ms); ready", engine_options.data_dir, ms);
  });

  const int exit_code = latch.wait();

  api.begin_shutdown();
  server.stop_accepting();
  server.begin_drain();
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  while (server.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (server.in_flight() > 0) {
    spdlog::warn("{} requests still running after {}s; stopping anyway", server.in_flight(),
                 kDrainTimeout.count());
  }
  work.reset();
  ioc.stop();
  for (std::thread& t : workers) t.join();
  // An open still in progress cannot be cancelled; wait for it so the Database is closed.
  opener.join();
  api.set_database(nullptr);
  db.reset();  // closes RocksDB after every worker has stopped
  spdlog::info("stopped");
  return exit_code;
}
