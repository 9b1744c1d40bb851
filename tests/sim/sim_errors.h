// Every error the simulator can answer with, in one place, so that new
// checks and fault injection add a line here rather than a literal in a
// handler. Sources: /work/shared/reference/sfmc-api.md (codes, shapes) and
// the seed documents 003/004 (MobileConnect sentences). Where SFMC's exact
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

// MobileConnect sentences, exactly as documented; "{0}" is the argument.
namespace mc {
// seed 003, messageContact
inline constexpr std::string_view kInvalidMessageId = "Message id {0} is not valid.";
inline constexpr std::string_view kNoAudience = "The count of mobile numbers or subscribers cannot be zero.";
inline constexpr std::string_view kBothAudiences =
    "An array of mobile numbers and an array of subscribers cannot be provided at the same time.";
inline constexpr std::string_view kIncompleteSubscriber =
    "A subscriber object must have both a mobile number and subscriber key defined.";
inline constexpr std::string_view kKeywordRequired =
    "Keyword cannot be blank when Subscribe or Resubscribe are true.";
inline constexpr std::string_view kKeywordNotNeeded =
    "Keyword is not necessary when Subscribe and Resubscribe are false.";
inline constexpr std::string_view kBlankOverride = "Cannot override message text with a blank message.";
inline constexpr std::string_view kMessageTextWithoutOverride =
    "MessageText is not applicable when Override is false.";
inline constexpr std::string_view kNotNumeric = "{0} is not a numeric string";
inline constexpr std::string_view kInvalidPhone = "Invalid phone number";
// seed 004, messageList
inline constexpr std::string_view kListInvalidMessageId = "Message id {0} isn't valid.";
inline constexpr std::string_view kNoTargetLists = "The count of Target List IDs can't be zero.";
inline constexpr std::string_view kInvalidTargetList = "Target list id [{0}] is invalid.";
inline constexpr std::string_view kTargetListsWithoutOverride =
    "TargetListIds isn't applicable when OverrideTemplateTargetLists is false.";
inline constexpr std::string_view kOverrideWithoutTargetLists =
    "Cannot override template target lists when no target list ids are specified.";
inline constexpr std::string_view kNoExclusionLists = "The count of Exclusion List IDs can't be zero.";
inline constexpr std::string_view kInvalidExclusionList = "Exclusion list id [{0}] is invalid.";
inline constexpr std::string_view kExclusionListsWithoutOverride =
    "ExclusionListIds isn't applicable when OverrideTemplateExclusionLists is false.";
inline constexpr std::string_view kOverrideWithoutExclusionLists =
    "Cannot override template exclusion lists when no exclusion list ids are specified.";
inline constexpr std::string_view kExclusionListsWhenIgnored =
    "Exclusion list ids can't be specified when IgnoreExclusionLists is true.";
inline constexpr std::string_view kOverrideExclusionWhenIgnored =
    "OverrideTemplateExclusionLists can't be true when IgnoreExclusionLists is true.";
inline constexpr std::string_view kMessageTextWithoutOverrideMessageText =
    "MessageText isn't applicable when OverrideMessageText is false.";
// seed 004, used for both routes (003 documents no sentence for these)
inline constexpr std::string_view kUtcOffsetRequired =
    "A UTC offset must be specified when using a blackout window.";
inline constexpr std::string_view kInvalidUtcOffset = "{0} isn't a valid UTC offset.";
inline constexpr std::string_view kWindowStartRequired =
    "A window start time must be specified when using a blackout window.";
inline constexpr std::string_view kInvalidWindowStart = "{0} isn't a valid blackout window start time.";
inline constexpr std::string_view kWindowEndRequired =
    "A window end time must be specified when using a blackout window.";
inline constexpr std::string_view kInvalidWindowEnd = "{0} isn't a valid blackout window end time.";
inline constexpr std::string_view kInvalidSendTime = "{0} isn't a valid send time (yyyy-MM-dd HH:mm).";
// [sim]: SFMC documents no sentence for these.
inline constexpr std::string_view kBodyNotJsonObject = "The request body must be a JSON object.";
inline constexpr std::string_view kTooManySubscribers = "The count of subscribers cannot exceed 250.";
inline constexpr std::string_view kNotBoolean = "{0} is not a valid boolean value.";
inline constexpr std::size_t kMaxSubscribers = 250;  // [doc]
}  // namespace mc

// Replaces "{0}" in a documented sentence.
std::string fill(std::string_view sentence, std::string_view argument);

}  // namespace sfmc::sim
