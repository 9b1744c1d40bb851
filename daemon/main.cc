// sfmc-relay: Kafka send requests -> Salesforce Marketing Cloud -> outcomes.
// The only place that names the concrete classes and wires them together.
#include <prometheus/registry.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "contract/event_decoder.h"
#include "http/curl_transport.h"
#include "kafka/consumer.h"
#include "kafka/publisher.h"
#include "telemetry/admin_server.h"
#include "config/config.h"
#include "telemetry/kafka_stats.h"
#include "telemetry/metrics.h"
#include "telemetry/log.h"
#include "pipeline/relay.h"
#include "pipeline/ens_service.h"
#include "pipeline/ens_verifier.h"
#include "pipeline/status_followup.h"
#include "sfmc/status_client.h"
#include "sfmc/client.h"
#include "demo.h"
#include "ens.h"
#include "redrive.h"
#include "validate.h"

#ifndef SFMC_RELAY_VERSION
#define SFMC_RELAY_VERSION "unknown"
#endif

namespace {

constexpr const char* kNoEnsKey =
    "ENS has no signature key (ens.signature_keys): every batch is refused with 401 until one is configured; "
    "SFMC's verification POST is answered, so that `sfmc-relay ens create` can run first";

constexpr const char* kUsage = R"(Usage:
  sfmc-relay run --config FILE           consume send events, call SFMC, publish outcomes
  sfmc-relay check-config --config FILE  validate a configuration file and exit
  sfmc-relay redrive --config FILE [...]  publish dead letters back to their input topic
                                         (--help for its filters and exit codes)
  sfmc-relay ens COMMAND --config FILE   set up SFMC's Event Notification Service: create, verify,
                                         subscribe, list, delete-callback, delete-subscription (--help)
  sfmc-relay validate [FILE...]          check events offline (JSON Lines on stdin without FILE or for -);
                                         --schema NAME prints a schema
  sfmc-relay demo --auth-url URL [--ens-listen HOST:PORT]
                                         relay the built-in example events through an
                                         in-process Kafka mock cluster to an SFMC
                                         simulator at URL, print the outcomes (and the
                                         delivery records its ENS feed pushes), exit
  sfmc-relay --version | --help

Signals: SIGTERM or SIGINT stop consuming, let the events in flight finish,
publish their outcomes, commit and exit 0. SIGHUP reloads the log settings.
Exit codes: 0 stopped, 1 Kafka failure, 2 usage, 3 fenced (exactly-once: another
instance uses this transactional.id), 78 configuration.
)";

constexpr int kExitConfig = 78;  // EX_CONFIG: systemd's RestartPreventExitStatus names it
// Exactly-once mode: another instance with this transactional.id took over.
// Not restarted either: two instances sharing an id would fence each other in turn.
constexpr int kExitFenced = 3;

std::optional<std::string> get_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

// SIGINT/SIGTERM/SIGHUP are blocked in every thread and taken by one waiting
// thread, which sets flags: no async-signal-unsafe work in a handler.
class SignalWatcher {
 public:
  SignalWatcher(std::atomic<bool>& stop, std::atomic<bool>& reload) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::thread([set, &stop, &reload] {
      for (int signal = 0; sigwait(&set, &signal) == 0;) {
        if (signal == SIGHUP) {
          reload = true;
        } else {
          stop = true;
          return;
        }
      }
    });
    thread_.detach();  // lives until exit; it only touches flags that outlive main's work
  }

 private:
  std::thread thread_;
};

std::string option(const std::vector<std::string>& args, const std::string& name) {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == name) return args[i + 1];
  return {};
}

// SIGHUP reloads what can change without a restart: the log level and
// masking. Everything else needs a restart (and says so).
void reload_logging(const std::string& path, sfmc::Logger& log) {
  try {
    auto config = sfmc::load_config_file(path, get_env, sfmc::relay_environment());
    log.set_level(config.log_level);
    log.set_masking(config.mask_personal_data);
    log.info("SIGHUP: log settings reloaded; other settings take effect at the next start");
  } catch (const std::exception& e) {
    log.error("SIGHUP: configuration not reloaded", {{"error", e.what()}});
  }
}

// systemd's notify protocol (Type=notify): READY, STOPPING and the watchdog.
// Without NOTIFY_SOCKET (not under systemd) these do nothing.
sfmc::RelayHooks systemd_hooks(std::function<void()> each_turn) {
  uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return {[] { sd_notify(0, "READY=1\nSTATUS=consuming"); },
          [=] {
            each_turn();
            // Ping at a quarter of the period: a stuck loop stops pinging.
            auto now = std::chrono::steady_clock::now();
            if (watchdog && now - *last >= std::chrono::microseconds(watchdog_usec / 4)) {
              sd_notify(0, "WATCHDOG=1");
              *last = now;
            }
          },
          [] { sd_notify(0, "STOPPING=1\nSTATUS=finishing events in flight"); }};
}

// Delivery status follow-up: a consumer of its own, on a thread of its own,
// with its own producer (never transactional: a delivery record may
// come twice) and connections; the sends' tokens.
struct FollowUp {
  FollowUp(const sfmc::RelayConfig& config, sfmc::TokenShelf& tokens, sfmc::Metrics& metrics, sfmc::Logger& log,
           const sfmc::kafka::Consumer::LogHook& kafka_log)
      : consumer(own_member(config.consumer_properties), {config.status.outcome_topic, config.status.followup_topic},
                 kafka_log, {},
                 /*buffered=*/1000),
        publisher(without_transactions(config.producer_properties), kafka_log),
        transport(config.status_http),
        client(config.accounts, transport, clock, tokens, config.status_client, &metrics),
        engine(consumer, publisher, client, transport, metrics, log, config.status) {}

  // A group of its own, GROUP-status: its members joining and leaving never
  // rebalance the sends' consumers (under the classic protocol every
  // rebalance stops them all). It reads at the pace of its lookups, so
  // little prefetch (unless configured).
  static sfmc::kafka::Properties own_member(sfmc::kafka::Properties properties) {
    properties["group.id"] += "-status";
    if (auto id = properties.find("group.instance.id"); id != properties.end()) id->second += "-status";
    properties.try_emplace("queued.max.messages.kbytes", "256");
    // An aborted transaction's outcome starts no check; a new group reads
    // from the start, whatever the sends' consumer does (unmarked outcomes
    // are skipped), so no check is missed before it first joins.
    properties["isolation.level"] = "read_committed";
    properties["auto.offset.reset"] = "earliest";
    return properties;
  }
  static sfmc::kafka::Properties without_transactions(sfmc::kafka::Properties properties) {
    properties.erase("transactional.id");
    return properties;
  }

  sfmc::SystemClock clock;
  sfmc::kafka::Consumer consumer;
  sfmc::kafka::Publisher publisher;
  sfmc::CurlTransport transport;
  sfmc::StatusClient client;
  sfmc::StatusFollowUp engine;
};

int run(const sfmc::RelayConfig& config, const std::string& config_path, sfmc::Logger& log,
        const std::atomic<bool>& stop, std::atomic<bool>& reload) {
  using namespace sfmc;
  if (!config.http.verify_tls) log.warn("TLS certificate verification is OFF (http.insecure_skip_tls_verify)");
  auto kafka_log = [&log](int level, const std::string& facility, const std::string& message) {
    log.kafka(level, facility, message);
  };
  prometheus::Registry registry;
  Metrics metrics(registry, SFMC_RELAY_VERSION);
  Health health;
  AdminServer admin(registry, health);
  if (!config.admin_listen.empty()) admin.start(config.admin_listen);

  SystemClock clock;
  CurlTransport transport(config.http);
  SfmcClient client(config.accounts, transport, clock, metrics, log, config.retry, std::random_device{}(),
                    config.coalesce, config.concurrency);
  TokenShelf tokens;  // the send client's tokens, for status lookups
  if (!config.status.topic.empty()) client.share_tokens(tokens);
  EventDecoder decoder(config.decoder);
  kafka::Consumer consumer(
      config.consumer_properties, config.input_topics, kafka_log,
      [&metrics](const char* json) { record_consumer_lag(json, metrics); },
      // Enough to refill the window between turns; librdkafka's prefetch is behind it.
      /*buffered=*/std::min<size_t>(config.pipeline.max_in_flight, 1000));
  kafka::Publisher publisher(config.producer_properties, kafka_log);
  auto on_turn = [&] {
    if (reload.exchange(false) && !config_path.empty()) reload_logging(config_path, log);
  };
  Relay relay(consumer, publisher, decoder, client, transport, clock, metrics, health, log, config.pipeline,
              systemd_hooks(on_turn));
  log.info("started", {{"version", SFMC_RELAY_VERSION}, {"librdkafka", kafka::library_version()},
                       {"group", config.consumer_properties.at("group.id")},
                       {"outcome_topic", config.pipeline.outcome_topic},
                       {"max_in_flight", config.pipeline.max_in_flight},
                       {"admin", config.admin_listen.empty() ? "off" : config.admin_listen + " (port " + std::to_string(admin.port()) + ")"}});
  std::unique_ptr<EnsVerifier> ens_verifier;  // outlives the receiver that hands it pairs
  std::unique_ptr<EnsService> ens;
  if (!config.ens.listen.empty()) {
    ens = std::make_unique<EnsService>(config.ens, config.producer_properties, registry, log, kafka_log);
    if (!config.ens.verify_account.empty()) {
      // One token for every try (the verifier's thread alone calls this), a new one after a 401.
      auto platform = std::make_shared<EnsPlatform>(config.http, config.accounts.at(config.ens.verify_account));
      ens_verifier = std::make_unique<EnsVerifier>(
          [platform](const std::string& callback_id, const std::string& key) {
            return platform->verify(callback_id, key);
          },
          log);
      ens->on_verification([&](const std::string& id, const std::string& key) { ens_verifier->verify(id, key); });
    }
    ens->start();
    log.info("ENS receiver listening",
             {{"listen", config.ens.listen}, {"port", ens->port()}, {"path", config.ens.path},
              {"topic", config.ens.topic}, {"https", config.ens.tls_cert_file.empty() ? "no" : "yes"}});
    if (config.ens.receiver.signature_keys.empty()) log.warn(kNoEnsKey);
  }
  std::unique_ptr<FollowUp> followup;
  std::atomic<bool> followup_stop{false};
  std::atomic<bool> followup_failed{false};
  std::thread followup_thread;
  if (!config.status.topic.empty()) {
    followup = std::make_unique<FollowUp>(config, tokens, metrics, log, kafka_log);
    followup_thread = std::thread([&] {
      if (followup->engine.run(followup_stop)) return;
      followup_failed = true;
      kill(getpid(), SIGTERM);  // the whole daemon stops, and says so in its exit code
    });
  }
  struct Joiner {  // however run() ends, the follow-up stops first
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  };
  auto exit = [&] {
    Joiner joiner{followup_stop, followup_thread};
    return relay.run(stop);
  }();
  if (followup_failed && exit == RelayExit::Stopped) exit = RelayExit::FatalKafka;
  switch (exit) {
    case RelayExit::Stopped: return 0;
    case RelayExit::FatalKafka: return 1;
    case RelayExit::FatalConfig: return kExitConfig;
    case RelayExit::Fenced: return kExitFenced;
    case RelayExit::Stuck:
      // A thread is still inside librdkafka: the destructors would wait for
      // it for ever. Nothing is lost: like a crash, the uncommitted events
      // are consumed again and the open transaction is aborted at restart.
      std::fflush(nullptr);
      std::_Exit(1);
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // librdkafka's fetch buffers (up to fetch.max.bytes, 1 MiB) come and go
  // all the time, each held until the last of its records is taken. With
  // glibc's sliding threshold they soon land on the heap, which fragments:
  // the peak grew with the backlog (56 MiB at 1M events against 50 at 100k).
  // Mapped, they go back whole (49.5 MiB at 1M; the same events/s).
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "sfmc-relay " << SFMC_RELAY_VERSION << " (librdkafka " << sfmc::kafka::library_version() << ")\n";
    return 0;
  }

  if (args[0] == "validate") return sfmc::run_validate({args.begin() + 1, args.end()});

  sfmc::Logger log;
  std::atomic<bool> stop{false};
  std::atomic<bool> reload{false};
  SignalWatcher signals(stop, reload);
  try {
    sfmc::CurlGlobal curl;
    const std::string& command = args[0];
    if (command == "redrive" && (args.size() == 1 || args[1] == "--help" || args[1] == "-h")) {
      std::cout << sfmc::kRedriveUsage;
      return args.size() == 1 ? 2 : 0;
    }
    if (command == "ens" && (args.size() == 1 || args[1] == "--help" || args[1] == "-h")) {
      std::cout << sfmc::kEnsUsage;
      return args.size() == 1 ? 2 : 0;
    }
    if (command == "run" || command == "check-config" || command == "redrive" || command == "ens") {
      std::string path = option(args, "--config");
      if (path.empty()) {
        std::cerr << "sfmc-relay " << command << ": --config FILE is required\n" << kUsage;
        return 2;
      }
      auto config = sfmc::load_config_file(path, get_env, sfmc::relay_environment());
      if (command == "check-config") {
        try {  // what librdkafka would refuse at start-up: names and values
          sfmc::kafka::make_conf(config.consumer_properties);
          sfmc::kafka::make_conf(config.producer_properties);
        } catch (const sfmc::kafka::PropertyError& e) {
          throw sfmc::ConfigError(path + ": " + e.what());
        }
        std::cout << path << ": OK\n";
        if (!config.http.verify_tls)
          std::cout << path << ": warning: TLS certificate verification is OFF (http.insecure_skip_tls_verify): "
                    << "SFMC's certificates and host names are not checked\n";
        if (!config.ens.listen.empty() && config.ens.receiver.signature_keys.empty())
          std::cout << path << ": warning: " << kNoEnsKey << "\n";
        return 0;
      }
      if (command == "redrive") return sfmc::run_redrive({args.begin() + 1, args.end()}, config, stop);
      if (command == "ens") return sfmc::run_ens({args.begin() + 1, args.end()}, config);
      log.set_level(config.log_level);
      log.set_masking(config.mask_personal_data);
      return run(config, path, log, stop, reload);
    }
    if (command == "demo") {
      std::string auth_url = option(args, "--auth-url");
      if (auth_url.empty()) {
        std::cerr << "sfmc-relay demo: --auth-url URL is required\n" << kUsage;
        return 2;
      }
      return sfmc::run_demo(auth_url, option(args, "--ens-listen"), log, stop,
                            [&](const sfmc::RelayConfig& config, const std::atomic<bool>& s) {
                              return run(config, {}, log, s, reload);
                            });
    }
    std::cerr << "sfmc-relay: unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const sfmc::ConfigError& e) {
    std::cerr << "sfmc-relay: " << e.what() << "\n";
    return kExitConfig;
  } catch (const sfmc::kafka::PropertyError& e) {  // a combination only a client refuses
    log.error("configuration refused", {{"error", e.what()}});
    return kExitConfig;
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
}
