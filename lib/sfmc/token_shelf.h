// The send client's tokens, shared with the status follow-up's thread:
// Salesforce asks for at most one token request per 20 minutes per client,
// so status lookups use the sends' tokens instead of fetching their own.
// The send client puts each token it gets here and, on its own thread,
// fetches when the other side asks (no token yet, or one SFMC refused).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "sfmc/token.h"

namespace sfmc {

class TokenShelf {
 public:
  // The send client: its account's token is now this one.
  void put(const std::string& account, const AccessToken& token) {
    std::lock_guard lock(mutex_);
    tokens_[account] = token;
  }
  // The status client: the account's token, when there is one.
  std::optional<AccessToken> get(const std::string& account) const {
    std::lock_guard lock(mutex_);
    auto it = tokens_.find(account);
    return it == tokens_.end() ? std::nullopt : std::optional<AccessToken>(it->second);
  }
  // The status client: it needs a token for the account (none, expired, or
  // `refused` by SFMC with a 401: then not that one again).
  void want(const std::string& account, const std::string& refused = {}) {
    std::lock_guard lock(mutex_);
    wanted_.insert(account);
    if (!refused.empty()) refused_[account] = refused;
  }
  // The send client: whether a token is wanted for the account, and the
  // value SFMC refused (empty: none); asks once.
  bool take_want(const std::string& account, std::string& refused) {
    std::lock_guard lock(mutex_);
    if (wanted_.erase(account) == 0) return false;
    auto it = refused_.find(account);
    refused = it == refused_.end() ? std::string() : it->second;
    if (it != refused_.end()) refused_.erase(it);
    return true;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, AccessToken> tokens_;
  std::set<std::string> wanted_;
  std::map<std::string, std::string> refused_;
};

}  // namespace sfmc
