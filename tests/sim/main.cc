// sfmc-sim: runs the SFMC simulator until SIGINT/SIGTERM. Prints exactly one
// line to stdout, "sfmc-sim listening on http://HOST:PORT", so scripts can
// learn the port; everything else goes to stderr.
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "sim_server.h"

namespace {

constexpr std::string_view kUsage =
    "usage: sfmc-sim [options]\n"
    "  --host ADDR           address to listen on (default 127.0.0.1)\n"
    "  --port N              port to listen on; 0 picks a free one (default 0)\n"
    "  --client-id ID        accepted client_id (default sim-client)\n"
    "  --client-secret S     accepted client_secret (default sim-secret)\n"
    "  --token-ttl SECONDS   token lifetime and expires_in (default 1080)\n"
    "  --threads N           worker threads = max concurrent connections (default 64)\n"
    "  --record-limit N      keep the last N requests for /_sim/requests; 0 = off (default 100000)\n"
    "  --verbose             log one line per request to stderr\n"
    "  --help                show this help\n";

struct CommandLine {
  sfmc::sim::SimOptions options;
  bool verbose = false;
  bool help = false;
};

std::optional<int> to_int(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Accepts "--name value" and "--name=value". Returns an error message or "".
std::string parse(int argc, char** argv, CommandLine& command_line) {
  auto& options = command_line.options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::optional<std::string> inline_value;
    if (const auto equals = arg.find('='); arg.starts_with("--") && equals != std::string_view::npos) {
      inline_value = std::string(arg.substr(equals + 1));
      arg = arg.substr(0, equals);
    }
    if (arg == "--help" || arg == "-h") {
      command_line.help = true;
      continue;
    }
    if (arg == "--verbose" || arg == "-v") {
      command_line.verbose = true;
      continue;
    }
    const bool takes_value = arg == "--host" || arg == "--port" || arg == "--client-id" || arg == "--client-secret" ||
                             arg == "--token-ttl" || arg == "--threads" || arg == "--record-limit";
    if (!takes_value) {
      return "unknown option " + std::string(arg);
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return "missing value for " + std::string(arg);
    }
    if (arg == "--host") {
      options.host = value;
    } else if (arg == "--client-id") {
      options.client_id = value;
    } else if (arg == "--client-secret") {
      options.client_secret = value;
    } else {  // the numeric options
      const auto number = to_int(value);
      if (!number || *number < 0 || (arg == "--port" && *number > 65535) || (arg == "--threads" && *number == 0)) {
        return "invalid value for " + std::string(arg) + ": " + value;
      }
      if (arg == "--port") {
        options.port = *number;
      } else if (arg == "--token-ttl") {
        options.token_ttl_s = *number;
      } else if (arg == "--threads") {
        options.worker_threads = *number;
      } else {
        options.max_recorded_requests = static_cast<std::size_t>(*number);
      }
    }
  }
  return "";
}

void log_request(const sfmc::sim::RecordedRequest& request) {
  // One write per line so lines from concurrent workers do not interleave.
  const std::string line =
      "sfmc-sim: " + request.method + " " + request.path + " -> " + std::to_string(request.status) + "\n";
  std::fputs(line.c_str(), stderr);
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine command_line;
  if (const auto error = parse(argc, argv, command_line); !error.empty()) {
    std::cerr << "sfmc-sim: " << error << "\n" << kUsage;
    return 2;
  }
  if (command_line.help) {
    std::cout << kUsage;
    return 0;
  }
  if (command_line.verbose) command_line.options.on_request = log_request;

  // Block the stop signals before any thread exists, so every server thread
  // inherits the mask and sigwait below is the only place they arrive.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client hanging up mid-reply must not kill us

  try {
    sfmc::sim::SimServer server(command_line.options);
    server.start();
    std::cout << "sfmc-sim listening on " << server.base_url() << std::endl;
    int received = 0;
    sigwait(&stop_signals, &received);
    std::cerr << "sfmc-sim: signal " << received << ", stopping\n";
    server.stop();
  } catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    return 1;
  }
  return 0;
}
