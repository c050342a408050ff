// Session affinity's cookies as Flagger's routers write them (analysis.sessionAffinity): the
// Set-Cookie values and the Cookie header's regular expression. The cookies themselves
// (`name=value`) are the Canary's status' (controller::trackSessionCookies). Internal to the
// router layer.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "canaryd/api/canary.h"
#include "canaryd/api/defaults.h"
#include "canaryd/core/duration.h"

namespace canaryd::router {

// `cookie` (`name=value`) with Max-Age and the attributes of `affinity`, in Flagger's order.
inline std::string setCookieValue(const api::SessionAffinity& affinity, const std::string& cookie,
                                  std::int64_t maxAge) {
  std::string out = cookie + "; Max-Age=" + std::to_string(maxAge);
  if (!affinity.domain.value_or("").empty()) out += "; Domain=" + *affinity.domain;
  if (affinity.httpOnly.value_or(false)) out += "; HttpOnly";
  if (affinity.partitioned.value_or(false)) out += "; Partitioned";
  if (!affinity.path.value_or("").empty()) out += "; Path=" + *affinity.path;
  if (!affinity.sameSite.value_or("").empty()) out += "; SameSite=" + *affinity.sameSite;
  if (affinity.secure.value_or(false)) out += "; Secure";
  return out;
}

// The canary cookie lives maxAge (a day by default); the primary cookie one analysis interval.
inline std::int64_t canaryCookieMaxAge(const api::SessionAffinity& affinity) {
  return affinity.maxAge.value_or(api::kDefaultSessionAffinityMaxAge);
}
inline std::int64_t primaryCookieMaxAge(const api::CanaryAnalysis& analysis) {
  const Duration interval =
      parseDuration(analysis.interval.value_or("1m")).valueOr(std::chrono::minutes(1));
  return std::chrono::duration_cast<std::chrono::seconds>(interval).count();
}

// The Cookie header's regular expression for `cookie` (`name=value`): `.*name.*value.*`.
inline std::string cookieRegex(const std::string& cookie) {
  const std::size_t eq = cookie.find('=');
  return ".*" + cookie.substr(0, eq) + ".*" +
         (eq == std::string::npos ? "" : cookie.substr(eq + 1)) + ".*";
}

}  // namespace canaryd::router
