// The AlertProvider resource (flagger.app/v1beta1): where and how alerts are delivered.
// Plain value types; see canary.h for the conventions.
#pragma once

#include <optional>
#include <string>

#include "canaryd/api/meta.h"

namespace canaryd::api {

struct AlertProviderSpec {
  std::optional<std::string> type;
  std::optional<std::string> channel;
  std::optional<std::string> username;
  std::optional<std::string> address;
  std::optional<std::string> proxy;
  std::optional<SecretReference> secretRef;
  friend bool operator==(const AlertProviderSpec&, const AlertProviderSpec&) = default;
};

struct AlertProvider {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  ObjectMeta metadata;
  AlertProviderSpec spec;
  JsonValue status;  // Flagger defines no status fields; kept as written
  friend bool operator==(const AlertProvider&, const AlertProvider&) = default;
};

}  // namespace canaryd::api
