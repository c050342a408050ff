// Kubernetes object metadata and the small reference types Flagger's API shares.
// Plain value types: an unset optional means the field was absent in the manifest, so
// decoding and encoding round-trip exactly. Fields canaryd has no use for are kept in `rest`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "canaryd/api/json_value.h"

namespace canaryd::api {

using StringMap = std::map<std::string, std::string>;

struct ObjectMeta {
  std::optional<std::string> name;
  std::optional<std::string> namespace_;
  StringMap labels;
  StringMap annotations;
  std::optional<std::string> uid;
  std::optional<std::string> resourceVersion;
  std::optional<std::int64_t> generation;
  std::optional<std::string> creationTimestamp;
  std::optional<std::string> deletionTimestamp;
  std::vector<std::string> finalizers;
  std::vector<JsonValue> ownerReferences;
  // Other metadata (managedFields, generateName, ...), kept as written.
  JsonValue rest;

  friend bool operator==(const ObjectMeta&, const ObjectMeta&) = default;
};

// A port number or a port name (Kubernetes IntOrString).
struct IntOrString {
  std::variant<std::int64_t, std::string> value;
  bool isInt() const { return std::holds_alternative<std::int64_t>(value); }
  friend bool operator==(const IntOrString&, const IntOrString&) = default;
};

// A reference to an object in the Canary's namespace.
struct LocalObjectReference {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  std::optional<std::string> name;
  friend bool operator==(const LocalObjectReference&, const LocalObjectReference&) = default;
};

// A reference to an object in any namespace (default: the Canary's).
struct CrossNamespaceObjectReference {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  std::optional<std::string> name;
  std::optional<std::string> namespace_;
  friend bool operator==(const CrossNamespaceObjectReference&,
                         const CrossNamespaceObjectReference&) = default;
};

// A reference to a Secret in the same namespace.
struct SecretReference {
  std::optional<std::string> name;
  friend bool operator==(const SecretReference&, const SecretReference&) = default;
};

}  // namespace canaryd::api
