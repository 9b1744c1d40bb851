// Every error the simulator can answer with, in one place, so that new
// checks and fault injection add a line here rather than a literal in a
// handler. Sources: the API reference (codes, shapes) and the seed
// documents 003/004 (MobileConnect sentences). Where SFMC's exact
// text is unknown the simulator's own wording is marked [sim].
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sfmc::sim {

// Transactional Messaging codes. The message text is "<name>: <detail>".
struct TmCode {
  int code;
  std::string_view name;
};

namespace tm {
inline constexpr TmCode kResponsesHasErrors{109001, "MCMS_UTM_ResponsesHasErrors"};
inline constexpr TmCode kTooManySubscribers{109101, "MCMS_UTM_Validation_TooManySubscribers"};
inline constexpr TmCode kNoSubscribers{109102, "MCMS_UTM_Validation_NoSubscribers"};
inline constexpr TmCode kNoValidSubscribers{109103, "MCMS_UTM_Validation_NoValidSubscribers"};
inline constexpr TmCode kMissingSubscriberKey{109105,
                                              "MCMS_UTM_Validation_MissingRequiredField_subscriberKey"};
inline constexpr TmCode kMissingTo{109106, "MCMS_UTM_Validation_MissingRequiredField_to"};
inline constexpr TmCode kInvalidSubscriberKey{109109, "MCMS_UTM_Validation_InvalidValue_subscriberKey"};
inline constexpr TmCode kInvalidMessageKey{109108, "MCMS_UTM_Validation_InvalidValue_messageKey"};
inline constexpr TmCode kDuplicateMessageKey{109110, "MCMS_UTM_Validation_DuplicateMessageKey"};
inline constexpr TmCode kInvalidDefinitionKey{109111, "MCMS_UTM_Validation_InvalidValue_definitionKey"};
inline constexpr TmCode kInvalidTo{109121, "MCMS_UTM_Validation_InvalidValue_to"};
inline constexpr TmCode kUnknownFieldName{109122, "MCMS_UTM_Validation_UnknownFieldName"};

// Details. kReusedKey is the text seen in real traffic; the rest are [sim].
inline constexpr std::string_view kInvalidSubscriber = "Invalid subscriber";  // seen, 109106
inline constexpr std::string_view kReusedKey = "messageKey reused within the past 2 days";
inline constexpr std::string_view kKeyRepeatedInRequest = "messageKey repeated within the request";
inline constexpr std::size_t kMaxMessageKeyLength = 100;  // [doc]
inline constexpr std::size_t kMaxEmailRecipients = 2000;  // [doc]
}  // namespace tm

std::string tm_message(TmCode code, std::string_view detail);

// Generic REST error codes ({"message","errorcode","documentation"}).
namespace rest {
inline constexpr int kNotAuthorized = 0;  // with HTTP 401 and "Not Authorized" [seen]
inline constexpr int kBadRequest = 10000;  // [sim] choice for an unparseable body
}  // namespace rest

// The HTTP status SFMC pairs with a generic REST errorcode (reference §2).
int http_status_for_rest_code(int errorcode);

// MobileConnect sentences the shared contract (lib/contract/body_rules.h)
// cannot give, because they need SFMC's data; exactly as documented, "{0}"
// and "{1}" are the arguments.
namespace mc {
inline constexpr std::string_view kInvalidMessageId = "Message id {0} is not valid.";       // seed 003
inline constexpr std::string_view kListInvalidMessageId = "Message id {0} isn't valid.";    // seed 004
inline constexpr std::string_view kInvalidTargetList = "Target list id [{0}] is invalid.";  // seed 004
inline constexpr std::string_view kInvalidExclusionList = "Exclusion list id [{0}] is invalid.";
// GET .../deliveries/{tokenId} [doc]
inline constexpr std::string_view kInvalidTokenId = "Token id {0} is not valid.";
inline constexpr std::string_view kTokenForOtherMessage = "TokenId {0} is not valid for MessageId {1}.";
// [sim]: SFMC documents no sentence for this.
inline constexpr std::string_view kBodyNotJsonObject = "The request body must be a JSON object.";
}  // namespace mc

// Injected faults (reference §5). Where the text is unknown it is [sim].
namespace fault {
inline constexpr int kRateLimited = 50100;  // 429 with Retry-After
inline constexpr int kBlocked = 50200;      // 429 without Retry-After
inline constexpr int kUnavailable = 50300;  // 503 with Retry-After
inline constexpr std::string_view kRateLimitedMessage = "Too many requests. Retry after the given seconds.";  // [sim]
inline constexpr std::string_view kBlockedMessage = "Your requests are temporarily blocked.";              // [doc]
inline constexpr std::string_view kUnavailableMessage = "Service temporarily unavailable.";                 // [sim]
}  // namespace fault

// Status lookups of a messageKey the simulator never accepted [sim: SFMC's
// answer is undocumented; 30003 is the generic code that maps to 404].
inline constexpr int kNotFoundCode = 30003;
inline constexpr std::string_view kMessageKeyNotFound = "No message was sent with this messageKey.";

// Replaces "{0}" (and "{1}") in a documented sentence.
std::string fill(std::string_view sentence, std::string_view argument, std::string_view second = {});

}  // namespace sfmc::sim
