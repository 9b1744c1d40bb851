#include "validate.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "contract/embedded_schemas.h"
#include "contract/event_decoder.h"

namespace sfmc {

namespace {

constexpr const char* kValidateUsage = R"(Usage:
  sfmc-relay validate [FILE...]      check events; a FILE holds one JSON event or JSON Lines;
                                     without FILE (or for FILE -), JSON Lines are read from stdin
  sfmc-relay validate --schema NAME  print a schema: event, outcome, config, or an operation name
Prints one JSON line per event: {"file": F, "line": n, "valid": true|false,
"errors": [{"pointer", "message"}]}, n being the line where the event starts (- is stdin).
Exit code: 0 all valid, 1 some invalid, 2 usage error.
)";

class Checker {
 public:
  // Returns whether the event is valid, after printing its line.
  bool check(const std::string& file, int64_t line, const std::string& value) {
    InboundEvent event;
    event.input = {"validate", 0, line};
    event.value = value;
    Decoded decoded = decoder_.decode(event);
    const auto* invalid = std::get_if<InvalidEvent>(&decoded);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("file");
    w.String(file.c_str());
    w.Key("line");
    w.Int64(line);
    w.Key("valid");
    w.Bool(invalid == nullptr);
    w.Key("errors");
    w.StartArray();
    if (invalid) {
      for (const auto& e : invalid->errors) {
        w.StartObject();
        w.Key("pointer");
        w.String(e.pointer.c_str());
        w.Key("message");
        w.String(e.message.c_str());
        w.EndObject();
      }
    }
    w.EndArray();
    w.EndObject();
    std::cout << buffer.GetString() << '\n';
    return invalid == nullptr;
  }

 private:
  EventDecoder decoder_;
};

// Lines are numbered as they are in the file, blank ones included.
bool check_lines(const std::string& file, std::istream& in, Checker& checker) {
  bool all_valid = true;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number)
    if (line.find_first_not_of(" \t\r") != std::string::npos) all_valid = checker.check(file, number, line) && all_valid;
  return all_valid;
}

// A file holds one (possibly pretty-printed) event, or JSON Lines.
bool check_file(const std::string& file, Checker& checker) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "sfmc-relay validate: cannot read " << file << "\n";
    return false;
  }
  std::stringstream read;
  read << in.rdbuf();
  const std::string content = read.str();
  rapidjson::Document whole;
  whole.Parse(content.c_str());
  if (whole.HasParseError()) {
    std::istringstream lines(content);
    return check_lines(file, lines, checker);
  }
  auto start = content.begin() + static_cast<std::ptrdiff_t>(content.find_first_not_of(" \t\r\n"));
  return checker.check(file, 1 + std::count(content.begin(), start, '\n'), content);
}

}  // namespace

int run_validate(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << kValidateUsage;
    return 0;
  }
  if (!args.empty() && args[0] == "--schema") {
    auto schema = args.size() == 2 ? schemas::by_name(args[1]) : std::nullopt;
    if (!schema) {
      std::cerr << "sfmc-relay validate: --schema needs one of event, outcome, config or an operation name\n";
      return 2;
    }
    std::cout << *schema;
    return 0;
  }
  for (const auto& arg : args)
    if (arg.size() > 1 && arg[0] == '-') {
      std::cerr << "sfmc-relay validate: unknown option " << arg << "\n" << kValidateUsage;
      return 2;
    }

  Checker checker;
  bool all_valid = true;
  for (const auto& file : args.empty() ? std::vector<std::string>{"-"} : args)
    all_valid = (file == "-" ? check_lines(file, std::cin, checker) : check_file(file, checker)) && all_valid;
  return all_valid ? 0 : 1;
}

}  // namespace sfmc
