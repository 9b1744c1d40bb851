#include "validate.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "contract/embedded_schemas.h"
#include "contract/event_decoder.h"

namespace sfmc {

namespace {

constexpr const char* kValidateUsage = R"(Usage:
  sfmc-relay validate [FILE...]      check events; a FILE holds one JSON event or JSON Lines;
                                     without FILE, JSON Lines are read from stdin
  sfmc-relay validate --schema NAME  print a schema: event, outcome, config, or an operation name
Prints one JSON line per event: {"index": n, "valid": true|false, "errors": [{"path", "message"}]}.
Exit code: 0 all valid, 1 some invalid, 2 usage error.
)";

class Checker {
 public:
  // Returns whether the event is valid, after printing its line.
  bool check(const std::string& value) {
    InboundEvent event;
    event.input = {"validate", 0, index_};
    event.value = value;
    Decoded decoded = decoder_.decode(event);
    const auto* invalid = std::get_if<InvalidEvent>(&decoded);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("index");
    w.Int64(++index_);
    w.Key("valid");
    w.Bool(invalid == nullptr);
    w.Key("errors");
    w.StartArray();
    if (invalid) {
      for (const auto& e : invalid->errors) {
        w.StartObject();
        w.Key("path");
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
  int64_t index_ = 0;
};

bool check_lines(std::istream& in, Checker& checker) {
  bool all_valid = true;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    all_valid = checker.check(line) && all_valid;
  }
  return all_valid;
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
    if (!arg.empty() && arg[0] == '-') {
      std::cerr << "sfmc-relay validate: unknown option " << arg << "\n" << kValidateUsage;
      return 2;
    }

  Checker checker;
  if (args.empty()) return check_lines(std::cin, checker) ? 0 : 1;
  bool all_valid = true;
  for (const auto& path : args) {
    std::ifstream in(path);
    if (!in) {
      std::cerr << "sfmc-relay validate: cannot read " << path << "\n";
      all_valid = false;
      continue;
    }
    std::stringstream content;
    content << in.rdbuf();
    // One (possibly pretty-printed) event, or JSON Lines.
    rapidjson::Document whole;
    whole.Parse(content.str().c_str());
    if (!whole.HasParseError()) {
      all_valid = checker.check(content.str()) && all_valid;
    } else {
      std::istringstream lines(content.str());
      all_valid = check_lines(lines, checker) && all_valid;
    }
  }
  return all_valid ? 0 : 1;
}

}  // namespace sfmc
