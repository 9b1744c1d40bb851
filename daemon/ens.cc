#include "ens.h"

#include <rapidjson/document.h>

#include <iostream>
#include <optional>

#include "sfmc/ens_platform.h"

namespace sfmc {

const char* const kEnsUsage = R"(Usage: sfmc-relay ens COMMAND --config FILE [--account NAME] ...
  create --url URL [--name NAME] [--max-batch N (100-1000)]
                 register the callback (https://HOST/PATH of the ens listener, through its
                 ingress); SFMC posts a verification pair to it at once, which the relay logs.
                 Prints the callbackId and the signatureKey, which SFMC shows this once.
  verify --callback-id ID --verification-key KEY
                 make the callback usable, with the pair the relay logged
  subscribe --callback-id ID [--name NAME] [--types TYPE,...]
                 send it the events of the transactional sends (default: every
                 TransactionalSendEvents.Sms* and Email* type)
  list           the callbacks and their subscriptions
  delete-callback ID | delete-subscription ID
Exit codes: 0 done, 1 SFMC refused or could not be reached, 2 usage.
)";

namespace {

constexpr const char* kTransactionalTypes[] = {
    "TransactionalSendEvents.SmsSent",      "TransactionalSendEvents.SmsDelivered",
    "TransactionalSendEvents.SmsBounced",   "TransactionalSendEvents.SmsNotSent",
    "TransactionalSendEvents.SmsTransient", "TransactionalSendEvents.EmailSent",
    "TransactionalSendEvents.EmailNotSent", "TransactionalSendEvents.EmailBounced"};

std::string option(const std::vector<std::string>& args, const std::string& name) {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == name) return args[i + 1];
  return {};
}

// EnsPlatform's calls; the answer's body when SFMC said 2xx, else nullopt,
// said on stderr.
class Platform {
 public:
  Platform(const RelayConfig& config, const AccountConfig& account) : platform_(config.http, account) {}

  bool sign_in() {
    if (auto problem = platform_.sign_in()) {
      std::cerr << "sfmc-relay ens: " << *problem << "\n";
      return false;
    }
    return true;
  }
  std::optional<std::string> request(const std::string& method, const std::string& path, const std::string& body = {}) {
    return said(method + " " + path, platform_.request(method, path, body));
  }
  std::optional<std::string> create_callback(const std::string& name, const std::string& url, int max_batch_size) {
    return said("POST /platform/v1/ens-callbacks", platform_.create_callback(name, url, max_batch_size));
  }
  std::optional<std::string> verify(const std::string& callback_id, const std::string& verification_key) {
    return said("POST /platform/v1/ens-verify", platform_.verify(callback_id, verification_key));
  }
  std::optional<std::string> subscribe(const std::string& callback_id, const std::string& name,
                                       const std::vector<std::string>& event_types) {
    return said("POST /platform/v1/ens-subscriptions", platform_.subscribe(callback_id, name, event_types));
  }

 private:
  static std::optional<std::string> said(const std::string& call, PlatformAnswer answer) {
    if (answer.ok()) return std::move(answer.body);
    std::cerr << "sfmc-relay ens: " << call << ": " << answer.problem << "\n";
    return std::nullopt;
  }
  EnsPlatform platform_;
};

// SFMC's answer to a creation: a list whose first item is what was created.
bool first_created(const std::string& body, rapidjson::Document& doc) {
  doc.Parse(body.c_str());
  return !doc.HasParseError() && doc.IsArray() && !doc.Empty() && doc[0].IsObject();
}

std::string text(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return {};
  if (it->value.IsString()) return it->value.GetString();
  if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
  return {};
}

}  // namespace

int run_ens(const std::vector<std::string>& args, const RelayConfig& config) {
  if (args.empty()) {
    std::cerr << kEnsUsage;
    return 2;
  }
  const std::string command = args[0];
  const std::string account_name = option(args, "--account").empty() ? "default" : option(args, "--account");
  auto account = config.accounts.find(account_name);
  if (account == config.accounts.end()) {
    std::cerr << "sfmc-relay ens: no account '" << account_name << "' in the configuration\n";
    return 2;
  }
  auto usage = [](const std::string& why) {
    std::cerr << "sfmc-relay ens: " << why << "\n" << kEnsUsage;
    return 2;
  };
  const std::string callback_id = option(args, "--callback-id");
  if (command == "create" && option(args, "--url").empty()) return usage("create needs --url URL");
  if ((command == "verify" || command == "subscribe") && callback_id.empty())
    return usage(command + " needs --callback-id ID");
  if (command == "verify" && option(args, "--verification-key").empty())
    return usage("verify needs --verification-key KEY");
  // The id of delete-*: the word that is neither an option nor an option's value.
  std::string id;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0)
      ++i;
    else if (id.empty())
      id = args[i];
    else
      return usage("one id, not '" + id + "' and '" + args[i] + "'");
  }
  if ((command == "delete-callback" || command == "delete-subscription") && id.empty())
    return usage(command + " needs the id");
  if (command != "create" && command != "verify" && command != "subscribe" && command != "list" &&
      command != "delete-callback" && command != "delete-subscription")
    return usage("unknown command '" + command + "'");

  int batch = 1000;  // create's maxBatchSize: SFMC takes 100 to 1000
  if (const std::string given = option(args, "--max-batch"); !given.empty()) {
    try {
      batch = std::stoi(given);
    } catch (const std::exception&) {
      batch = 0;
    }
    if (batch < 100 || batch > 1000) return usage("--max-batch takes 100 to 1000, not '" + given + "'");
  }

  Platform sfmc(config, account->second);
  if (!sfmc.sign_in()) return 1;
  if (command == "create") {
    const std::string name = option(args, "--name").empty() ? "sfmc-relay" : option(args, "--name");
    auto body = sfmc.create_callback(name, option(args, "--url"), batch);
    if (!body) return 1;
    rapidjson::Document doc;
    if (!first_created(*body, doc)) {
      std::cerr << "sfmc-relay ens: SFMC's answer is not a list of callbacks: " << *body << "\n";
      return 1;
    }
    std::cout << "callbackId: " << text(doc[0], "callbackId") << "\n"
              << "signatureKey: " << text(doc[0], "signatureKey") << "\n"
              << "SFMC shows the signature key this once: store it as a secret now (a file named in "
                 "ens.signature_keys, e.g. the credential ens-signature-key), then run `sfmc-relay ens verify` "
                 "with the verification pair the relay logged (unless ens.verify_account has it do that).\n";
    return 0;
  }
  if (command == "verify") {
    auto body = sfmc.verify(callback_id, option(args, "--verification-key"));
    if (!body) return 1;
    std::cout << "callback " << callback_id << " verified\n";
    return 0;
  }
  if (command == "subscribe") {
    std::vector<std::string> types(std::begin(kTransactionalTypes), std::end(kTransactionalTypes));
    if (const std::string given = option(args, "--types"); !given.empty()) {
      types.clear();
      for (size_t start = 0; start <= given.size();) {
        const size_t comma = std::min(given.find(',', start), given.size());
        types.push_back(given.substr(start, comma - start));
        start = comma + 1;
      }
    }
    const std::string name = option(args, "--name").empty() ? "sfmc-relay" : option(args, "--name");
    auto body = sfmc.subscribe(callback_id, name, types);
    if (!body) return 1;
    rapidjson::Document doc;
    if (first_created(*body, doc)) std::cout << "subscriptionId: " << text(doc[0], "subscriptionId") << "\n";
    return 0;
  }
  if (command == "list") {
    auto body = sfmc.request("GET", "/platform/v1/ens-callbacks");
    if (!body) return 1;
    rapidjson::Document doc;
    doc.Parse(body->c_str());
    if (doc.HasParseError() || !doc.IsArray()) {
      std::cerr << "sfmc-relay ens: SFMC's answer is not a list of callbacks: " << *body << "\n";
      return 1;
    }
    for (const auto& c : doc.GetArray()) {
      if (!c.IsObject()) continue;
      const std::string id = text(c, "callbackId");
      std::cout << "callback " << id << " " << text(c, "callbackName") << " " << text(c, "url") << " "
                << text(c, "status") << "\n";
      auto subscriptions = sfmc.request("GET", "/platform/v1/ens-subscriptions-by-cb/" + id);
      if (!subscriptions) return 1;
      rapidjson::Document list;
      list.Parse(subscriptions->c_str());
      if (list.HasParseError() || !list.IsArray()) continue;
      for (const auto& s : list.GetArray()) {
        if (!s.IsObject()) continue;
        std::cout << "  subscription " << text(s, "subscriptionId") << " " << text(s, "subscriptionName");
        if (auto types = s.FindMember("eventCategoryTypes"); types != s.MemberEnd() && types->value.IsArray())
          for (const auto& type : types->value.GetArray())
            if (type.IsString()) std::cout << " " << type.GetString();
        std::cout << "\n";
      }
    }
    return 0;
  }
  const std::string path =
      command == "delete-callback" ? "/platform/v1/ens-callbacks/" : "/platform/v1/ens-subscriptions/";
  if (!sfmc.request("DELETE", path + id)) return 1;
  std::cout << (command == "delete-callback" ? "callback " : "subscription ") << id << " deleted\n";
  return 0;
}

}  // namespace sfmc
