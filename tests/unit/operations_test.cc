#include <doctest/doctest.h>

#include "core/operations.h"

using namespace sfmc;

TEST_CASE("every operation name maps to its documented route") {
  CHECK(request_path(*operation_from_name("transactional.sms.send"), "") == "/messaging/v1/sms/messages/");
  CHECK(request_path(*operation_from_name("transactional.sms.sendOne"), "abc") == "/messaging/v1/sms/messages/abc");
  CHECK(request_path(*operation_from_name("transactional.email.send"), "") == "/messaging/v1/email/messages/");
  CHECK(request_path(*operation_from_name("mobileconnect.messageContact.send"), "MzA6Nzg6MA") ==
        "/sms/v1/messageContact/MzA6Nzg6MA/send");
  CHECK(request_path(*operation_from_name("mobileconnect.messageList.send"), "MTA6") == "/sms/v1/messageList/MTA6/send");
  CHECK_FALSE(operation_from_name("transactional.sms.sned").has_value());
}

TEST_CASE("path parameters are percent-encoded, unreserved characters kept") {
  CHECK(encode_path_segment("a b/c?d%e") == "a%20b%2Fc%3Fd%25e");
  CHECK(encode_path_segment("Az09-._~") == "Az09-._~");
  CHECK(encode_path_segment("\xC3\xA9") == "%C3%A9");
}
