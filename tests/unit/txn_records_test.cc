#include <doctest/doctest.h>

#include <set>

#include "pipeline/txn_records.h"

using sfmc::InputCoordinates;
using sfmc::RecordTopic;
using sfmc::TxnRecords;

TEST_CASE("kept transaction records come back whole, in order, but those of dropped partitions") {
  TxnRecords records;
  records.keep(RecordTopic::Outcome, {"in", 0, 10}, 1700000000000, std::string("key-1"), "outcome 1", {{"traceparent", "00-ab"}});
  records.keep(RecordTopic::DeadLetter, {"in", 1, 20}, -1, std::nullopt, std::string(70000, 'x'), {{"a", ""}, {"", "b"}});
  records.keep(RecordTopic::Outcome, {"in", 1, 20}, -1, std::string(), "", {});
  records.keep(RecordTopic::Outcome, {"other", 0, 30}, 5, std::string("k"), "outcome 4", {});
  CHECK(records.size() == 4);

  using Partitions = std::set<std::pair<std::string, int32_t>>;
  CHECK(records.any_from(Partitions{{"in", 1}}));
  CHECK_FALSE(records.any_from(Partitions{{"in", 2}, {"other", 1}}));

  Partitions dropping{{"other", 0}};
  auto back = records.take(&dropping);
  CHECK(records.empty());
  REQUIRE(back.size() == 3);
  CHECK(back[0].topic == RecordTopic::Outcome);
  CHECK(back[0].input.topic == "in");
  CHECK(back[0].input.partition == 0);
  CHECK(back[0].input.offset == 10);
  CHECK(back[0].timestamp_ms == 1700000000000);
  CHECK(back[0].key == std::optional<std::string>("key-1"));
  CHECK(back[0].value == "outcome 1");
  CHECK(back[0].headers == TxnRecords::Headers{{"traceparent", "00-ab"}});
  CHECK(back[1].topic == RecordTopic::DeadLetter);
  CHECK(back[1].input.offset == 20);
  CHECK_FALSE(back[1].key.has_value());  // no key is not an empty key
  CHECK(back[1].value == std::string(70000, 'x'));
  CHECK(back[1].headers == TxnRecords::Headers{{"a", ""}, {"", "b"}});
  CHECK(back[2].key == std::optional<std::string>(""));
  CHECK(back[2].value.empty());
  CHECK(back[2].headers.empty());

  // Cleared, it keeps records again from scratch.
  records.keep(RecordTopic::Outcome, {"in", 3, 1}, -1, std::nullopt, "again", {});
  auto again = records.take<Partitions>(nullptr);
  REQUIRE(again.size() == 1);
  CHECK(again[0].input.partition == 3);
  CHECK(again[0].value == "again");
}
