// A child process for integration tests: the real daemon binary, started
// with arguments and extra environment, stopped with a signal.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sfmc::test {

class ChildProcess {
 public:
  // `log_file`: where the child's stderr goes (empty: inherited), and its
  // stdout too with `stdout_too`.
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::vector<std::string>& extra_env, const std::string& log_file = {}, bool stdout_too = false);
  ~ChildProcess();  // SIGKILLs a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void signal(int signal_number);
  // The exit code once the child ended within `timeout`; -1 when it was
  // killed by a signal, nullopt when it is still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace sfmc::test
