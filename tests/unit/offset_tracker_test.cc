#include <doctest/doctest.h>

#include "kafka/offset_tracker.h"

using sfmc::kafka::OffsetTracker;

TEST_CASE("the committable position stops at the first unfinished event") {
  OffsetTracker t;
  for (int64_t o = 10; o < 14; ++o) t.begin("t", 0, o);
  CHECK(t.take_committable() == std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>>{{{"t", 0}, 10}});
  t.finish("t", 0, 11);
  t.finish("t", 0, 13);
  CHECK(t.take_committable().empty());  // 10 still pending
  t.finish("t", 0, 10);
  CHECK(t.take_committable() == std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>>{{{"t", 0}, 12}});
  t.finish("t", 0, 12);
  CHECK(t.take_committable() == std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>>{{{"t", 0}, 14}});
  CHECK(t.in_flight() == 0);
}

TEST_CASE("partitions are tracked apart and forgotten on revoke") {
  OffsetTracker t;
  t.begin("t", 0, 5);
  t.begin("t", 1, 7);
  t.finish("t", 1, 7);
  auto moved = t.take_committable();
  REQUIRE(moved.size() == 2);
  CHECK(moved[0].second == 5);
  CHECK(moved[1].second == 8);
  t.forget("t", 0);
  t.finish("t", 0, 5);  // a late acknowledgement for a revoked partition is ignored
  CHECK(t.take_committable().empty());
  CHECK(t.in_flight() == 0);
}

TEST_CASE("an event that needs two acknowledgements (outcome and dead letter) finishes with the second") {
  OffsetTracker t;
  t.begin("t", 0, 0);
  t.expect_another("t", 0, 0);
  t.finish("t", 0, 0);
  CHECK(t.take_committable() == std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>>{{{"t", 0}, 0}});
  t.finish("t", 0, 0);
  CHECK(t.take_committable() == std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>>{{{"t", 0}, 1}});
}

TEST_CASE("uncommitted counts every consumed event a confirmed commit does not cover") {
  OffsetTracker t;
  for (int64_t o = 100; o < 110; ++o) t.begin("t", 0, o);
  CHECK(t.uncommitted() == 10);
  for (int64_t o = 101; o < 110; ++o) t.finish("t", 0, o);  // 100 is slow
  CHECK(t.in_flight() == 1);
  CHECK(t.uncommitted() == 10);  // a crash now re-delivers all ten
  t.finish("t", 0, 100);
  CHECK(t.take_committable() == std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>>{{{"t", 0}, 110}});
  CHECK(t.uncommitted() == 10);  // taken for a commit, not yet confirmed
  t.committed("t", 0, 105);      // an older commit confirmed late
  CHECK(t.uncommitted() == 5);
  t.committed("t", 0, 110);
  CHECK(t.uncommitted() == 0);
}

TEST_CASE("a failed commit gives its position back; a final commit takes every unconfirmed one") {
  using Positions = std::vector<std::pair<OffsetTracker::PartitionKey, int64_t>>;
  OffsetTracker t;
  for (int64_t o = 0; o < 4; ++o) t.begin("t", 0, o);
  t.begin("t", 1, 7);
  t.finish("t", 0, 0);
  t.finish("t", 0, 1);
  t.finish("t", 1, 7);
  CHECK(t.take_committable() == Positions{{{"t", 0}, 2}, {{"t", 1}, 8}});
  CHECK(t.take_committable().empty());  // in flight: not taken twice
  t.committed("t", 1, 8);
  t.commit_failed("t", 0);
  CHECK(t.take_committable() == Positions{{{"t", 0}, 2}});
  CHECK(t.take_committable(/*unconfirmed_too=*/true) == Positions{{{"t", 0}, 2}});  // not partition 1: confirmed
}
