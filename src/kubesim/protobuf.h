// The Kubernetes protobuf encoding, decoded into the JSON that kubesim's JSON API takes, for
// the built-in kinds that kubectl's typed commands send as protobuf: `kubectl create
// namespace`, `secret generic`, `configmap`, `deployment`, `serviceaccount` and `service`.
//
// A body is the 4 bytes "k8s\0" and a runtime.Unknown message (typeMeta {apiVersion, kind},
// raw: the object's message, contentEncoding, contentType). The object's messages are known
// field by field, from Kubernetes' generated.proto files (k8s.io/api core/v1 and apps/v1,
// apimachinery meta/v1, intstr, resource); nothing is guessed: a kind or a field that is not
// decoded is refused with 415 naming it. The body is hostile input: every length is checked,
// nesting is bounded by the schema, and a malformed body is a 400. Internal to kubesim;
// stateless and thread-safe.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace canaryd::kubesim {

// True for the media type kubectl sends protobuf as (application/vnd.kubernetes.protobuf).
bool isProtobufContentType(std::string_view contentType);

// The object encoded in `body` as JSON ({"apiVersion", "kind", "metadata", ...}), with the
// zero values Go writes for fields that are not set left out, as Go's JSON encoding leaves
// them out. Throws ApiError 400 for a malformed body, 415 for a kind, a field or an encoding
// kubesim does not decode (the message says which, and that `kubectl apply -f` works).
nlohmann::json decodeProtobuf(std::string_view body);

}  // namespace canaryd::kubesim
