// The relay's own contract (lib/contract) applied to request bodies, so the
// simulator and the relay cannot drift apart: the embedded body schema of
// an operation, then sfmc::check_body_rules with SFMC's documented sentences.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "core/event.h"

namespace sfmc {
class SchemaValidator;
}

namespace sfmc::sim {

class BodyContract {
 public:
  // Compiles one validator per operation up front; a broken embedded schema
  // throws here, at start-up.
  BodyContract();
  ~BodyContract();
  BodyContract(const BodyContract&) = delete;
  BodyContract& operator=(const BodyContract&) = delete;

  struct Findings {
    std::vector<ErrorDetail> rules;   // SFMC's documented sentences
    std::vector<ErrorDetail> schema;  // structure, in the relay's wording ("must be of type string")
  };
  // Pointers are relative to the body ("" is the body itself).
  Findings check(Operation operation, const rapidjson::Value& body);

 private:
  // A SchemaValidator keeps state while it validates, so each request
  // borrows one; the pool grows to the number of concurrent requests.
  class ValidatorPool {
   public:
    explicit ValidatorPool(std::string_view schema);
    ~ValidatorPool();
    bool validate(const rapidjson::Value& body, std::vector<ErrorDetail>& errors);

   private:
    std::string_view schema_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<SchemaValidator>> idle_;
  };

  std::map<Operation, std::unique_ptr<ValidatorPool>> pools_;
};

}  // namespace sfmc::sim
