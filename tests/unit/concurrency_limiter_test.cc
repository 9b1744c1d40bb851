#include <doctest/doctest.h>

#include <vector>

#include "fakes.h"
#include "sfmc/concurrency_limiter.h"

using namespace sfmc;
using namespace std::chrono_literals;
using Answer = ConcurrencyLimiter::Answer;

namespace {

struct Driver {
  test::FakeClock clock;
  ConcurrencyLimiter limiter;

  explicit Driver(ConcurrencyOptions options) : limiter(options, clock) {}

  // Starts calls while there is room (`demand` more than that: the rest is
  // held), waits `latency`, answers them all with `answer`; returns the
  // limit after.
  size_t round(std::chrono::milliseconds latency, Answer answer = Answer::Clean, size_t demand = 1000) {
    std::vector<ConcurrencyLimiter::Ticket> calls;
    while (calls.size() < demand && limiter.has_room()) calls.push_back(limiter.started());
    if (calls.size() < demand) limiter.held();
    clock.current += latency;
    for (const auto& call : calls) limiter.finished(call, answer);
    return limiter.limit();
  }
};

}  // namespace

TEST_CASE("limiter: clean windows with calls waiting double the limit up to the ceiling (slow start)") {
  Driver d({.max = 64, .initial = 8});
  CHECK(d.limiter.limit() == 8);
  CHECK_FALSE(d.limiter.baseline_seconds());
  std::vector<size_t> limits;
  for (int i = 0; i < 5; ++i) limits.push_back(d.round(200ms));
  CHECK(limits == std::vector<size_t>{16, 32, 64, 64, 64});
  REQUIRE(d.limiter.baseline_seconds());
  CHECK(*d.limiter.baseline_seconds() == doctest::Approx(0.2));
  CHECK(d.limiter.in_flight() == 0);
}

TEST_CASE("limiter: without calls waiting past the limit, clean windows do not raise it") {
  Driver d({.max = 64, .initial = 8});
  for (int i = 0; i < 4; ++i) CHECK(d.round(200ms, Answer::Clean, /*demand=*/8) == 8);
}

TEST_CASE("limiter: back-pressure cuts at once, once per round of calls; +1 a window up to the cut, then doubling") {
  Driver d({.max = 64, .initial = 20});
  std::vector<ConcurrencyLimiter::Ticket> calls;
  while (d.limiter.has_room()) calls.push_back(d.limiter.started());
  d.limiter.held();
  CHECK(calls.size() == 20);
  d.clock.current += 200ms;
  d.limiter.finished(calls[0], Answer::BackPressure);
  CHECK(d.limiter.limit() == 18);  // 20 x 0.9
  d.limiter.finished(calls[1], Answer::BackPressure);
  CHECK(d.limiter.limit() == 18);  // started before the cut: no second cut
  for (size_t i = 2; i < calls.size(); ++i) d.limiter.finished(calls[i], Answer::Clean);
  CHECK(d.limiter.limit() == 18);  // the window saw back-pressure: no growth

  std::vector<size_t> limits;
  for (int i = 0; i < 6; ++i) limits.push_back(d.round(200ms));
  // Back to 20 (where the cut happened) one a window, then steps of 1, 2, 4.
  CHECK(limits == std::vector<size_t>{19, 20, 21, 23, 27, 35});

  // Back-pressure on a call started after the last cut cuts again, by at
  // least 2: 35 -> 31, then a round with back-pressure only.
  CHECK(d.round(1ms, Answer::BackPressure) == 31);
  CHECK(d.round(200ms) == 31);  // the window that saw back-pressure does not grow
  CHECK(d.round(200ms) == 32);  // +1: below the last cut (35)
}

TEST_CASE("limiter: a small limit drops by at least 2, and never below 1") {
  Driver d({.max = 64, .initial = 9});
  CHECK(d.round(1ms, Answer::BackPressure) == 7);  // 9 x 0.9 = 8.1 would come back at once
  CHECK(d.round(1ms, Answer::BackPressure) == 5);
  CHECK(d.round(1ms, Answer::BackPressure) == 3);
  CHECK(d.round(1ms, Answer::BackPressure) == 1);
  CHECK(d.round(1ms, Answer::BackPressure) == 1);
}

TEST_CASE("limiter: a window's latency clearly above the baseline cuts; within the tolerance it does not") {
  // One call a round: a window ends at its first answer past one baseline,
  // so here each window is one call.
  Driver d({.max = 64, .initial = 10});
  CHECK(d.round(200ms, Answer::Clean, 1) == 10);
  CHECK(*d.limiter.baseline_seconds() == doctest::Approx(0.2));
  // 1.4 x the baseline: within rtt_tolerance 1.5; the baseline moves by
  // alpha 0.4 of the difference.
  CHECK(d.round(280ms, Answer::Clean, 1) == 10);
  CHECK(*d.limiter.baseline_seconds() == doctest::Approx(0.232));
  // 400 ms > max(0.232 x 1.5, 0.232 + 2.5 x deviation 0.039): queueing.
  CHECK(d.round(400ms, Answer::Clean, 1) == 8);
  // Even with calls waiting, a slow window cuts rather than grows.
  CHECK(d.round(900ms) == 6);
}

TEST_CASE("limiter: answers that say nothing of load neither count as latency nor end a window") {
  Driver d({.max = 64, .initial = 4});
  CHECK(d.round(5000ms, Answer::Ignored) == 4);
  CHECK_FALSE(d.limiter.baseline_seconds());
  CHECK(d.round(200ms) == 8);
  CHECK(*d.limiter.baseline_seconds() == doctest::Approx(0.2));
}

TEST_CASE("limiter: a pinned limit never moves, is capped at the ceiling, and still measures the baseline") {
  Driver d({.max = 64, .fixed = 12});
  CHECK_FALSE(d.limiter.adaptive());
  CHECK(d.round(200ms) == 12);
  CHECK(d.round(1ms, Answer::BackPressure) == 12);
  CHECK(d.round(900ms) == 12);
  CHECK(d.limiter.baseline_seconds());
  Driver capped({.max = 64, .fixed = 100});
  CHECK(capped.limiter.limit() == 64);
  Driver tiny({.max = 0, .initial = 0});
  CHECK(tiny.limiter.limit() == 1);
}

TEST_CASE("limiter: what each HTTP status says of load") {
  for (int status : {0, 408, 429, 503, 504}) CHECK(ConcurrencyLimiter::answer_for(status) == Answer::BackPressure);
  for (int status : {401, 500, 502}) CHECK(ConcurrencyLimiter::answer_for(status) == Answer::Ignored);
  for (int status : {200, 202, 400, 403, 404, 409}) CHECK(ConcurrencyLimiter::answer_for(status) == Answer::Clean);
}
