#include "sim_errors.h"

namespace sfmc::sim {

std::string tm_message(TmCode code, std::string_view detail) {
  std::string message(code.name);
  message += ": ";
  message += detail;
  return message;
}

int http_status_for_rest_code(int errorcode) {
  if (errorcode >= 10000 && errorcode <= 10006) return 400;
  switch (errorcode) {
    case rest::kNotAuthorized: return 401;
    case 30000:
    case 30001: return 400;
    case 30002:
    case 30004: return 409;
    case 30003: return 404;
    case 50100:
    case 50200: return 429;
    case 50300: return 503;
    default: break;
  }
  // The 1091xx request-level validation codes come back as 400.
  return 400;
}

std::string fill(std::string_view sentence, std::string_view argument, std::string_view second) {
  // One pass over the sentence, so braces inside an argument stay as they are.
  std::string out;
  for (std::size_t i = 0; i < sentence.size(); ++i) {
    const auto rest = sentence.substr(i);
    if (rest.starts_with("{0}") || rest.starts_with("{1}")) {
      out += rest[1] == '0' ? argument : second;
      i += 2;
    } else {
      out += sentence[i];
    }
  }
  return out;
}

}  // namespace sfmc::sim
