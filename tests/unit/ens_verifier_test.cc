#include "pipeline/ens_verifier.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

using namespace sfmc;
using namespace std::chrono_literals;

namespace {

// The verifier's log, read back once it has stopped.
struct LogFile {
  char* written = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&written, &size);
  Logger log{LogLevel::Info, out};
  std::string text() {
    std::fclose(out);
    out = nullptr;
    return std::string(written, size);
  }
  ~LogFile() {
    if (out != nullptr) std::fclose(out);
    std::free(written);
  }
};

bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST_CASE("ens verifier: a callback SFMC does not know yet is tried again until it is verified, with its pair") {
  LogFile log;
  std::atomic<int> calls{0};
  std::string seen_id, seen_key;
  {
    EnsVerifier verifier(
        [&](const std::string& id, const std::string& key) {
          seen_id = id;
          seen_key = key;
          // As while the creation that caused the verification POST is still running.
          if (++calls < 3)
            return PlatformAnswer{404, R"({"message":"No such callback."})", "HTTP 404 No such callback."};
          return PlatformAnswer{200, R"({"verified":true})", ""};
        },
        log.log, {1ms, 10s});
    verifier.verify("cb-1", "vk-1");
    REQUIRE(eventually([&] { return calls == 3; }));
  }
  CHECK(seen_id == "cb-1");
  CHECK(seen_key == "vk-1");
  const std::string text = log.text();
  CHECK(text.find(R"("msg":"ENS callback verified","callbackId":"cb-1")") != std::string::npos);
  CHECK(text.find("not verified") == std::string::npos);
  CHECK(calls == 3);  // not tried again once verified
}

TEST_CASE("ens verifier: at most max_pending pairs are tried; a repeated callback replaces its pair") {
  LogFile log;
  std::mutex mutex;
  std::vector<std::string> tried;
  {
    EnsVerifier verifier(
        [&](const std::string& id, const std::string& key) {
          std::lock_guard lock(mutex);
          tried.push_back(id + "/" + key);
          return PlatformAnswer{404, "{}", "HTTP 404 No such callback."};
        },
        log.log, {1h, 2h, 2});
    verifier.verify("cb-1", "vk-1");
    verifier.verify("cb-2", "vk-2");
    verifier.verify("cb-3", "vk-3");  // dropped: two pending
    REQUIRE(eventually([&] {
      std::lock_guard lock(mutex);
      return tried.size() == 2;
    }));
    verifier.verify("cb-2", "vk-2b");  // replaces cb-2's pair, waiting an hour
  }
  CHECK(tried == std::vector<std::string>{"cb-1/vk-1", "cb-2/vk-2"});
  const std::string text = log.text();
  CHECK(text.find(R"("msg":"ENS callback verification not tried: too many pending; run `sfmc-relay ens verify` with )"
                  R"(its pair","callbackId":"cb-3","pending":2})") != std::string::npos);
  CHECK(text.find(R"("callbackId":"cb-2","error":"stopping")") != std::string::npos);  // the new pair, not tried yet
}

TEST_CASE("ens verifier: past give_up_after it stops and tells the operator what to run, with SFMC's last answer") {
  LogFile log;
  std::atomic<int> calls{0};
  {
    EnsVerifier verifier(
        [&](const std::string&, const std::string&) {
          ++calls;
          return PlatformAnswer{400, "{}", "HTTP 400 The verificationKey is not valid for this callback."};
        },
        log.log, {1ms, 30ms});
    verifier.verify("cb-2", "vk-2");
    // The give-up line, written before the verifier stops (memstream: size grows on each line's flush).
    REQUIRE(eventually([&] { return log.size > 0; }));
  }
  const std::string text = log.text();
  CHECK(calls >= 1);  // how many tries fit in 30 ms depends on the machine
  CHECK(text.find(R"("msg":"ENS callback not verified: run `sfmc-relay ens verify` with the pair logged before",)"
                  R"("callbackId":"cb-2","error":"HTTP 400 The verificationKey is not valid for this callback.")") !=
        std::string::npos);
  CHECK(text.find("vk-2") == std::string::npos);  // the key is in the receiver's line, not repeated
}
