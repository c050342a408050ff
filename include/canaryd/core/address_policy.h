// AddressPolicy: the operator's allow-list for the addresses that tenants' objects may make
// canaryd reach (MetricTemplate addresses, webhook URLs, alert provider addresses, HAProxy
// Runtime APIs): `canaryd run --allow-address HOST|CIDR|URL-prefix`, repeatable.
//
// An empty policy allows every address (Flagger's behaviour). Otherwise a URL is allowed when
//   - its host is a listed HOST (case-insensitive; "*.example.com" also matches subdomains),
//   - it starts with a listed URL prefix (scheme, host and port compared case-insensitively,
//     the path as written; "http://prom:9090/" allows that server and no other), or
//   - (a Unix socket, the HAProxy Runtime API's) its path is listed as "unix:/path",
//   - every address canaryd connects to for it lies in a listed CIDR (10.0.0.0/8, fd00::/8,
//     or a single IP): checked on the socket's address itself, after name resolution, so a
//     name that resolves inside a listed range is allowed and a name that is made to resolve
//     elsewhere is not.
// Refusals are counted per purpose (metric, webhook, alert, runtime-api) for
// canaryd_address_refusals_total. Immutable after parse() but for the counter hook;
// thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "canaryd/core/result.h"

struct sockaddr;

namespace canaryd {

class AddressPolicy {
 public:
  AddressPolicy();  // allows everything
  ~AddressPolicy();
  AddressPolicy(AddressPolicy&&) noexcept;
  AddressPolicy& operator=(AddressPolicy&&) noexcept;

  // Each entry a HOST, a CIDR or IP, a URL prefix (it has "://") or a Unix socket
  // ("unix:/path"); an entry that is none of them is an error naming it.
  static Result<AddressPolicy> parse(const std::vector<std::string>& entries);

  bool restricts() const;

  enum class Verdict {
    kAllowed,        // by host or URL prefix
    kIfAddressFits,  // only the connected addresses can tell (CIDR entries)
    kRefused,
  };
  Verdict checkUrl(std::string_view url) const;
  // Whether a socket address (AF_INET or AF_INET6) lies in a listed CIDR.
  bool allowsSocketAddress(const sockaddr* address) const;
  // Whether a Unix socket path may be reached (listed as "unix:PATH", or no restriction).
  bool allowsSocketPath(std::string_view path) const;

  // The message of a refusal: the URL (redacted to scheme and host) and the flag to change.
  static std::string refusal(std::string_view url);

  // Told of every refusal, with its purpose; set once at start-up (before any request).
  void onRefusal(std::function<void(const std::string& purpose)> hook);
  void refused(const std::string& purpose) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `url` for logs, events, status and alerts: without userinfo, query or fragment, which may
// carry tokens, and without the path too unless `keepPath` (a Slack hook's path is its secret):
// "https://hooks.slack.com/services/T/B/X?x=1" -> "https://hooks.slack.com/services/T/B/X", or
// "https://hooks.slack.com/..." without the path. A URL that cannot be parsed gives
// "(unparsable URL)".
std::string redactUrl(std::string_view url, bool keepPath = true);

}  // namespace canaryd
