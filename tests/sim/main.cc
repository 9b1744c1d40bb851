// sfmc-sim: runs the SFMC simulator until SIGINT/SIGTERM. Prints exactly one
// line to stdout, "sfmc-sim listening on http(s)://HOST:PORT", so scripts can
// learn the port; everything else goes to stderr.
#include <signal.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "sim_cli.h"
#include "sim_server.h"

namespace {

void log_request(const sfmc::sim::RecordedRequest& request) {
  // One write per line so lines from concurrent workers do not interleave.
  const std::string line =
      "sfmc-sim: " + request.method + " " + request.path + " -> " + std::to_string(request.status) + "\n";
  std::fputs(line.c_str(), stderr);
}

}  // namespace

int main(int argc, char** argv) {
  sfmc::sim::CommandLine command_line;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (const auto error = sfmc::sim::parse_command_line(args, command_line); !error.empty()) {
    std::cerr << "sfmc-sim: " << error << "\n" << sfmc::sim::kUsage;
    return 2;
  }
  if (command_line.help) {
    std::cout << sfmc::sim::kUsage;
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
    if (!command_line.options.faults.injects_nothing()) {
      std::cerr << "sfmc-sim: injecting faults " << sfmc::sim::fault_config_json(server.faults()) << "\n";
    }
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
