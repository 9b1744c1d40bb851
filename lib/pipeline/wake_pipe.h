// A non-blocking pipe that librdkafka writes to when its queues fill, so the
// engine's single poll (curl_multi_poll) wakes for Kafka as well as HTTP.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

namespace sfmc {

class WakePipe {
 public:
  WakePipe() {
    if (pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  }
  ~WakePipe() {
    close(fds_[0]);
    close(fds_[1]);
  }
  WakePipe(const WakePipe&) = delete;
  WakePipe& operator=(const WakePipe&) = delete;

  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  // From any thread.
  void wake() const {
    char byte = 'w';
    (void)!write(fds_[1], &byte, 1);
  }
  void drain() {
    char buffer[256];
    while (read(fds_[0], buffer, sizeof buffer) > 0) {
    }
  }

 private:
  int fds_[2];
};

}  // namespace sfmc
