#include "core/operations.h"

namespace sfmc {

const OperationInfo& info(Operation operation) {
  for (const auto& i : kOperations)
    if (i.operation == operation) return i;
  return kOperations.front();  // unreachable: every enumerator has a row
}

std::optional<Operation> operation_from_name(std::string_view name) {
  for (const auto& i : kOperations)
    if (i.name == name) return i.operation;
  return std::nullopt;
}

std::string encode_path_segment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string request_path(Operation operation, std::string_view path_parameter) {
  const auto& i = info(operation);
  std::string path(i.path_prefix);
  if (!i.path_parameter.empty()) path += encode_path_segment(path_parameter);
  path += i.path_suffix;
  return path;
}

}  // namespace sfmc
