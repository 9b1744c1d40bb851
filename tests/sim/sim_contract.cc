#include "sim_contract.h"

#include "contract/body_rules.h"
#include "contract/embedded_schemas.h"
#include "contract/schema_validator.h"

namespace sfmc::sim {

BodyContract::ValidatorPool::ValidatorPool(std::string_view schema) : schema_(schema) {
  idle_.push_back(std::make_unique<SchemaValidator>(schema_));  // throws now if the schema is broken
}

BodyContract::ValidatorPool::~ValidatorPool() = default;

bool BodyContract::ValidatorPool::validate(const rapidjson::Value& body, std::vector<ErrorDetail>& errors) {
  std::unique_ptr<SchemaValidator> validator;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      validator = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!validator) validator = std::make_unique<SchemaValidator>(schema_);
  const bool valid = validator->validate(body, "", errors);
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(validator));
  return valid;
}

BodyContract::BodyContract() {
  // The transactional routes answer per recipient with 1091xx codes, which
  // a schema verdict cannot give, so only MobileConnect uses the schemas.
  for (const auto operation : {Operation::MessageContactSend, Operation::MessageListSend}) {
    pools_.emplace(operation, std::make_unique<ValidatorPool>(schemas::body(operation)));
  }
}

BodyContract::~BodyContract() = default;

BodyContract::Findings BodyContract::check(Operation operation, const rapidjson::Value& body) {
  Findings findings;
  check_body_rules(operation, body, findings.rules);
  // check_body_rules reports under "/body", the event's member; here the
  // body is the document, so drop that prefix.
  for (auto& error : findings.rules) {
    if (error.pointer.starts_with("/body")) error.pointer.erase(0, 5);
  }
  pools_.at(operation)->validate(body, findings.schema);
  return findings;
}

}  // namespace sfmc::sim
