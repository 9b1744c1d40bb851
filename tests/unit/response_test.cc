#include <doctest/doctest.h>

#include "sfmc/response.h"

using namespace sfmc;

TEST_CASE("202 with errorcode 0 is accepted with every messageKey") {
  auto c = classify({202, R"({"requestId":"r-1","errorcode":0,"responses":[{"messageKey":"a"},{"messageKey":"b"}]})", {}, {}}, false);
  CHECK(c.verdict == Verdict::Accepted);
  CHECK(c.request_id == "r-1");
  CHECK(c.message_keys == std::vector<std::string>{"a", "b"});
  CHECK(c.errors.empty());
}

TEST_CASE("202 with 109001 lists accepted and refused recipients") {
  auto c = classify({202,
                     R"({"requestId":"r","errorCode":"109001","message":"MCMS_UTM_ResponsesHasErrors: 1 subscribers failed to queue out of 2",
                         "responses":[{"messageKey":"x","errorcode":109106,"message":"MCMS_UTM_Validation_MissingRequiredField_to: Invalid subscriber"},{"messageKey":"y"}]})",
                     {}, {}},
                    false);
  CHECK(c.verdict == Verdict::PartiallyAccepted);
  CHECK(c.message_keys == std::vector<std::string>{"y"});
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors[0].code == 109106);
  CHECK(c.errors[0].message_key == "x");
  CHECK(c.errors[0].message == "MCMS_UTM_Validation_MissingRequiredField_to: Invalid subscriber");
}

TEST_CASE("109110 DuplicateMessageKey counts as accepted only on a retry") {
  HttpResponse r{202, R"({"requestId":"r","errorcode":109001,"responses":[{"messageKey":"k","errorcode":109110,"message":"dup"}]})", {}, {}};
  CHECK(classify(r, false).verdict == Verdict::Rejected);
  auto retry = classify(r, true);
  CHECK(retry.verdict == Verdict::Accepted);
  CHECK(retry.message_keys == std::vector<std::string>{"k"});
}

TEST_CASE("MobileConnect 202 carries the tokenId") {
  auto c = classify({202, R"({"tokenId":"c21NCNSDN2sMMWM2miosdjEHH"})", {}, {}}, false);
  CHECK(c.verdict == Verdict::Accepted);
  CHECK(c.token_id == "c21NCNSDN2sMMWM2miosdjEHH");
}

TEST_CASE("400 with MobileConnect errors is rejected with every sentence") {
  auto c = classify({400, R"({"errors":["1-317-555-1212 is not a numeric string","Keyword TestKeyword is invalid for the code on the message"]})", {}, {}}, false);
  CHECK(c.verdict == Verdict::Rejected);
  REQUIRE(c.errors.size() == 2);
  CHECK(c.errors[0].message == "1-317-555-1212 is not a numeric string");
}

TEST_CASE("status codes map to verdicts") {
  CHECK(classify({400, R"({"message":"bad","errorcode":30001})", {}, {}}, false).verdict == Verdict::Rejected);
  CHECK(classify({403, "", {}, {}}, false).verdict == Verdict::Rejected);
  CHECK(classify({404, "", {}, {}}, false).verdict == Verdict::Rejected);
  CHECK(classify({401, R"({"errorcode":0,"message":"Not Authorized"})", {}, {}}, false).verdict == Verdict::Unauthorized);
  CHECK(classify({500, "oops", {}, {}}, false).verdict == Verdict::Retryable);
  CHECK(classify({503, "", {}, {}}, false).verdict == Verdict::Retryable);
  CHECK(classify({0, "", {}, "Connection refused"}, false).verdict == Verdict::Retryable);
}

TEST_CASE("429 honours Retry-After from the header, else from the body") {
  auto header = classify({429, R"({"errorcode":50100,"retryAfter":5})", "7", {}}, false);
  CHECK(header.verdict == Verdict::Retryable);
  CHECK(header.retry_after_s == 7);
  CHECK(header.errors[0].code == 50100);
  auto body = classify({429, R"({"errorcode":50100,"retryAfter":5})", "", {}}, false);
  CHECK(body.retry_after_s == 5);
}

TEST_CASE("109110 for a key derived for this very event is accepted even on a first attempt (a re-delivery)") {
  HttpResponse r{202,
                 R"({"requestId":"r","errorcode":109001,"responses":[{"messageKey":"abc-0","errorcode":109110,"message":"dup"},{"messageKey":"other","errorcode":109110,"message":"dup"}]})",
                 {},
                 {}};
  auto c = classify(r, false, [](std::string_view key) { return key.starts_with("abc-"); });
  CHECK(c.verdict == Verdict::PartiallyAccepted);
  CHECK(c.message_keys == std::vector<std::string>{"abc-0"});
  REQUIRE(c.errors.size() == 1);
  CHECK(c.errors[0].message_key == "other");
}
