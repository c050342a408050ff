#include "kubesim/protobuf.h"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "canaryd/core/base64.h"

#include "kubesim/api_error.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

// How a field's value is encoded on the wire and shown in JSON.
enum class Type {
  String,       // length-delimited UTF-8
  Bytes,        // length-delimited, shown as base64
  Bool,         // varint
  Int32,        // varint (a negative value is sign-extended to 64 bits)
  Int64,        // varint
  Message,      // length-delimited message of Field::message
  Time,         // meta/v1 Time {seconds = 1, nanos = 2}, shown as RFC 3339 (seconds)
  IntOrString,  // intstr {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}
  Quantity,     // resource.Quantity {string = 1}
  StringMap,    // repeated entries {key = 1, value = 2}
  BytesMap,
  QuantityMap,
  NotDecoded,  // a field known to exist that kubesim does not decode: 415
};

struct Message;

struct Field {
  int number = 0;
  const char* name = "";
  Type type = Type::String;
  bool repeated = false;
  const Message* message = nullptr;
  // Go writes every field that is not a pointer, zero or not; its JSON leaves out the zero
  // ones (omitempty). A pointer field (replicas, immutable, ...) or a required one (port)
  // written as zero was set to zero, and is kept.
  bool keepZero = false;
};

struct Message {
  const char* name;
  std::vector<Field> fields;
};

Field scalar(int number, const char* name, Type type = Type::String) {
  return {number, name, type};
}
Field pointer(int number, const char* name, Type type) {
  return {number, name, type, false, nullptr, true};
}
Field list(int number, const char* name, Type type = Type::String) {
  return {number, name, type, true};
}
Field message(int number, const char* name, const Message& m) {
  return {number, name, Type::Message, false, &m};
}
Field messages(int number, const char* name, const Message& m) {
  return {number, name, Type::Message, true, &m};
}
Field notDecoded(int number, const char* name) {
  return {number, name, Type::NotDecoded};
}

// The messages, field numbers and names of k8s.io/api and apimachinery's generated.proto.

const Message kOwnerReference{
    "OwnerReference",
    {scalar(5, "apiVersion"), scalar(1, "kind"), scalar(3, "name"), scalar(4, "uid"),
     pointer(6, "controller", Type::Bool), pointer(7, "blockOwnerDeletion", Type::Bool)}};

const Message kObjectMeta{
    "ObjectMeta",
    {scalar(1, "name"), scalar(2, "generateName"), scalar(3, "namespace"), scalar(4, "selfLink"),
     scalar(5, "uid"), scalar(6, "resourceVersion"), scalar(7, "generation", Type::Int64),
     scalar(8, "creationTimestamp", Type::Time), scalar(9, "deletionTimestamp", Type::Time),
     pointer(10, "deletionGracePeriodSeconds", Type::Int64), scalar(11, "labels", Type::StringMap),
     scalar(12, "annotations", Type::StringMap), messages(13, "ownerReferences", kOwnerReference),
     list(14, "finalizers"), notDecoded(17, "managedFields")}};

const Message kLabelSelectorRequirement{
    "LabelSelectorRequirement", {scalar(1, "key"), scalar(2, "operator"), list(3, "values")}};

const Message kLabelSelector{"LabelSelector",
                             {scalar(1, "matchLabels", Type::StringMap),
                              messages(2, "matchExpressions", kLabelSelectorRequirement)}};

const Message kLocalObjectReference{"LocalObjectReference", {scalar(1, "name")}};

const Message kObjectReference{
    "ObjectReference",
    {scalar(1, "kind"), scalar(2, "namespace"), scalar(3, "name"), scalar(4, "uid"),
     scalar(5, "apiVersion"), scalar(6, "resourceVersion"), scalar(7, "fieldPath")}};

const Message kNamespaceSpec{"NamespaceSpec", {list(1, "finalizers")}};
const Message kNamespaceStatus{"NamespaceStatus",
                               {scalar(1, "phase"), notDecoded(2, "conditions")}};
const Message kNamespace{"Namespace",
                         {message(1, "metadata", kObjectMeta), message(2, "spec", kNamespaceSpec),
                          message(3, "status", kNamespaceStatus)}};

const Message kSecret{"Secret",
                      {message(1, "metadata", kObjectMeta), pointer(5, "immutable", Type::Bool),
                       scalar(2, "data", Type::BytesMap), scalar(4, "stringData", Type::StringMap),
                       scalar(3, "type")}};

const Message kConfigMap{
    "ConfigMap",
    {message(1, "metadata", kObjectMeta), pointer(4, "immutable", Type::Bool),
     scalar(2, "data", Type::StringMap), scalar(3, "binaryData", Type::BytesMap)}};

const Message kServiceAccount{
    "ServiceAccount",
    {message(1, "metadata", kObjectMeta), messages(2, "secrets", kObjectReference),
     messages(3, "imagePullSecrets", kLocalObjectReference),
     pointer(4, "automountServiceAccountToken", Type::Bool)}};

const Message kServicePort{
    "ServicePort",
    {scalar(1, "name"), scalar(2, "protocol"), scalar(6, "appProtocol"),
     pointer(3, "port", Type::Int32), scalar(4, "targetPort", Type::IntOrString),
     scalar(5, "nodePort", Type::Int32)}};

const Message kServiceSpec{"ServiceSpec",
                           {messages(1, "ports", kServicePort),
                            scalar(2, "selector", Type::StringMap),
                            scalar(3, "clusterIP"),
                            list(18, "clusterIPs"),
                            scalar(4, "type"),
                            list(5, "externalIPs"),
                            scalar(7, "sessionAffinity"),
                            scalar(8, "loadBalancerIP"),
                            list(9, "loadBalancerSourceRanges"),
                            scalar(10, "externalName"),
                            scalar(11, "externalTrafficPolicy"),
                            scalar(12, "healthCheckNodePort", Type::Int32),
                            scalar(13, "publishNotReadyAddresses", Type::Bool),
                            notDecoded(14, "sessionAffinityConfig"),
                            list(19, "ipFamilies"),
                            scalar(17, "ipFamilyPolicy"),
                            pointer(20, "allocateLoadBalancerNodePorts", Type::Bool),
                            scalar(21, "loadBalancerClass"),
                            scalar(22, "internalTrafficPolicy"),
                            scalar(23, "trafficDistribution")}};

const Message kLoadBalancerStatus{"LoadBalancerStatus", {notDecoded(1, "ingress")}};
const Message kServiceStatus{
    "ServiceStatus",
    {message(1, "loadBalancer", kLoadBalancerStatus), notDecoded(2, "conditions")}};
const Message kService{"Service",
                       {message(1, "metadata", kObjectMeta), message(2, "spec", kServiceSpec),
                        message(3, "status", kServiceStatus)}};

const Message kContainerPort{
    "ContainerPort",
    {scalar(1, "name"), scalar(2, "hostPort", Type::Int32),
     pointer(3, "containerPort", Type::Int32), scalar(4, "protocol"), scalar(5, "hostIP")}};

const Message kEnvVar{"EnvVar",
                      {scalar(1, "name"), scalar(2, "value"), notDecoded(3, "valueFrom")}};

const Message kResourceRequirements{
    "ResourceRequirements",
    {scalar(1, "limits", Type::QuantityMap), scalar(2, "requests", Type::QuantityMap),
     notDecoded(3, "claims")}};

const Message kContainer{"Container",
                         {scalar(1, "name"),
                          scalar(2, "image"),
                          list(3, "command"),
                          list(4, "args"),
                          scalar(5, "workingDir"),
                          messages(6, "ports", kContainerPort),
                          notDecoded(19, "envFrom"),
                          messages(7, "env", kEnvVar),
                          message(8, "resources", kResourceRequirements),
                          notDecoded(23, "resizePolicy"),
                          scalar(24, "restartPolicy"),
                          notDecoded(25, "restartPolicyRules"),
                          notDecoded(9, "volumeMounts"),
                          notDecoded(21, "volumeDevices"),
                          notDecoded(10, "livenessProbe"),
                          notDecoded(11, "readinessProbe"),
                          notDecoded(22, "startupProbe"),
                          notDecoded(12, "lifecycle"),
                          scalar(13, "terminationMessagePath"),
                          scalar(20, "terminationMessagePolicy"),
                          scalar(14, "imagePullPolicy"),
                          notDecoded(15, "securityContext"),
                          scalar(16, "stdin", Type::Bool),
                          scalar(17, "stdinOnce", Type::Bool),
                          scalar(18, "tty", Type::Bool)}};

const Message kPodSpec{"PodSpec",
                       {notDecoded(1, "volumes"),
                        messages(20, "initContainers", kContainer),
                        messages(2, "containers", kContainer),
                        notDecoded(34, "ephemeralContainers"),
                        scalar(3, "restartPolicy"),
                        pointer(4, "terminationGracePeriodSeconds", Type::Int64),
                        pointer(5, "activeDeadlineSeconds", Type::Int64),
                        scalar(6, "dnsPolicy"),
                        scalar(7, "nodeSelector", Type::StringMap),
                        scalar(8, "serviceAccountName"),
                        scalar(9, "serviceAccount"),
                        pointer(21, "automountServiceAccountToken", Type::Bool),
                        scalar(10, "nodeName"),
                        scalar(11, "hostNetwork", Type::Bool),
                        scalar(12, "hostPID", Type::Bool),
                        scalar(13, "hostIPC", Type::Bool),
                        pointer(27, "shareProcessNamespace", Type::Bool),
                        notDecoded(14, "securityContext"),
                        messages(15, "imagePullSecrets", kLocalObjectReference),
                        scalar(16, "hostname"),
                        scalar(17, "subdomain"),
                        notDecoded(18, "affinity"),
                        scalar(19, "schedulerName"),
                        notDecoded(22, "tolerations"),
                        notDecoded(23, "hostAliases"),
                        scalar(24, "priorityClassName"),
                        pointer(25, "priority", Type::Int32),
                        notDecoded(26, "dnsConfig"),
                        notDecoded(28, "readinessGates"),
                        scalar(29, "runtimeClassName"),
                        pointer(30, "enableServiceLinks", Type::Bool),
                        scalar(31, "preemptionPolicy"),
                        notDecoded(32, "overhead"),
                        notDecoded(33, "topologySpreadConstraints"),
                        pointer(35, "setHostnameAsFQDN", Type::Bool),
                        notDecoded(36, "os"),
                        pointer(37, "hostUsers", Type::Bool),
                        notDecoded(38, "schedulingGates"),
                        notDecoded(39, "resourceClaims"),
                        notDecoded(40, "resources"),
                        scalar(41, "hostnameOverride")}};

const Message kPodTemplateSpec{"PodTemplateSpec",
                               {message(1, "metadata", kObjectMeta), message(2, "spec", kPodSpec)}};

const Message kRollingUpdateDeployment{
    "RollingUpdateDeployment",
    {scalar(1, "maxUnavailable", Type::IntOrString), scalar(2, "maxSurge", Type::IntOrString)}};

const Message kDeploymentStrategy{
    "DeploymentStrategy",
    {scalar(1, "type"), message(2, "rollingUpdate", kRollingUpdateDeployment)}};

const Message kDeploymentSpec{
    "DeploymentSpec",
    {pointer(1, "replicas", Type::Int32), message(2, "selector", kLabelSelector),
     message(3, "template", kPodTemplateSpec), message(4, "strategy", kDeploymentStrategy),
     scalar(5, "minReadySeconds", Type::Int32), pointer(6, "revisionHistoryLimit", Type::Int32),
     scalar(7, "paused", Type::Bool), pointer(9, "progressDeadlineSeconds", Type::Int32)}};

const Message kDeploymentStatus{
    "DeploymentStatus",
    {scalar(1, "observedGeneration", Type::Int64), scalar(2, "replicas", Type::Int32),
     scalar(3, "updatedReplicas", Type::Int32), scalar(7, "readyReplicas", Type::Int32),
     scalar(4, "availableReplicas", Type::Int32), scalar(5, "unavailableReplicas", Type::Int32),
     pointer(9, "terminatingReplicas", Type::Int32), notDecoded(6, "conditions"),
     pointer(8, "collisionCount", Type::Int32)}};

const Message kDeployment{"Deployment",
                          {message(1, "metadata", kObjectMeta), message(2, "spec", kDeploymentSpec),
                           message(3, "status", kDeploymentStatus)}};

struct KindMessage {
  const char* apiVersion;
  const char* kind;
  const Message* message;
};

const KindMessage kKinds[] = {
    {"v1", "Namespace", &kNamespace}, {"v1", "Secret", &kSecret},
    {"v1", "ConfigMap", &kConfigMap}, {"v1", "ServiceAccount", &kServiceAccount},
    {"v1", "Service", &kService},     {"apps/v1", "Deployment", &kDeployment},
};

constexpr int kVarint = 0;
constexpr int kFixed64 = 1;
constexpr int kLengthDelimited = 2;
constexpr int kFixed32 = 5;

ApiError malformed(const std::string& what) {
  return badRequest("the protobuf body is malformed: " + what);
}

ApiError notDecodedError(const std::string& what) {
  return {415, "UnsupportedMediaType",
          "kubesim does not decode " + what +
              " sent as protobuf; send the object as JSON or YAML instead (kubectl apply -f "
              "with a manifest works)"};
}

// Reads a protobuf encoding; every read is checked against the end of the data.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ >= data_.size(); }

  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) throw malformed("a varint runs past the end");
      const auto byte = static_cast<std::uint8_t>(data_[pos_++]);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    throw malformed("a varint is longer than 10 bytes");
  }

  std::string_view take(std::uint64_t length) {
    if (length > data_.size() - pos_) throw malformed("a length runs past the end");
    std::string_view out = data_.substr(pos_, static_cast<std::size_t>(length));
    pos_ += static_cast<std::size_t>(length);
    return out;
  }

  std::string_view lengthDelimited() { return take(varint()); }

  // The next field's number and wire type.
  std::pair<std::uint64_t, int> tag() {
    const std::uint64_t tag = varint();
    const std::uint64_t number = tag >> 3;
    const int wire = static_cast<int>(tag & 7);
    if (number == 0 || number > 536870911) throw malformed("a field number is out of range");
    if (wire != kVarint && wire != kFixed64 && wire != kLengthDelimited && wire != kFixed32) {
      throw malformed("wire type " + std::to_string(wire) + " is not supported");
    }
    return {number, wire};
  }

  void skip(int wire) {
    if (wire == kVarint) {
      varint();
    } else if (wire == kFixed64) {
      take(8);
    } else if (wire == kFixed32) {
      take(4);
    } else {
      lengthDelimited();
    }
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

bool validUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (next & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

std::string text(std::string_view bytes, const std::string& path) {
  if (!validUtf8(bytes)) throw malformed(path + " is not valid UTF-8");
  return std::string(bytes);
}

std::string join(const std::string& path, const char* name) {
  return path.empty() ? std::string(name) : path + "." + name;
}

// metav1.Time as its JSON shows it: RFC 3339 in UTC, whole seconds; nullopt for the zero time.
std::optional<std::string> decodeTime(std::string_view data, const std::string& path) {
  Reader r(data);
  std::int64_t seconds = 0;
  std::int64_t nanos = 0;
  while (!r.done()) {
    auto [number, wire] = r.tag();
    if ((number != 1 && number != 2) || wire != kVarint) {
      throw malformed(path + ": a Time has only seconds (1) and nanos (2)");
    }
    const std::uint64_t v = r.varint();
    if (number == 1) {
      seconds = static_cast<std::int64_t>(v);
    } else {
      nanos = static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    }
  }
  if (seconds == 0 && nanos == 0) return std::nullopt;
  // Years 0001 to 9999, as RFC 3339 writes them.
  if (seconds < -62135596800LL || seconds > 253402300799LL) {
    throw malformed(path + ": the time is out of range");
  }
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) throw malformed(path + ": the time is out of range");
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buffer);
}

json decodeIntOrString(std::string_view data, const std::string& path) {
  Reader r(data);
  std::uint64_t type = 0;
  std::int32_t intVal = 0;
  std::string strVal;
  while (!r.done()) {
    auto [number, wire] = r.tag();
    if (number == 1 && wire == kVarint) {
      type = r.varint();
    } else if (number == 2 && wire == kVarint) {
      intVal = static_cast<std::int32_t>(static_cast<std::uint32_t>(r.varint()));
    } else if (number == 3 && wire == kLengthDelimited) {
      strVal = text(r.lengthDelimited(), path);
    } else {
      throw malformed(path + ": an IntOrString has only type (1), intVal (2) and strVal (3)");
    }
  }
  if (type == 0) return intVal;
  if (type == 1) return strVal;
  throw malformed(path + ": IntOrString type " + std::to_string(type) + " is neither 0 nor 1");
}

std::string decodeQuantity(std::string_view data, const std::string& path) {
  Reader r(data);
  std::string value;
  while (!r.done()) {
    auto [number, wire] = r.tag();
    if (number != 1 || wire != kLengthDelimited) {
      throw malformed(path + ": a Quantity has only string (1)");
    }
    value = text(r.lengthDelimited(), path);
  }
  return value;
}

// One map entry {key = 1, value = 2}, the value as `type` shows it.
std::pair<std::string, json> decodeEntry(std::string_view data, Type type,
                                         const std::string& path) {
  Reader r(data);
  std::string key;
  json value = "";  // an entry without a value has the zero value
  while (!r.done()) {
    auto [number, wire] = r.tag();
    if (wire != kLengthDelimited || (number != 1 && number != 2)) {
      throw malformed(path + ": a map entry has only key (1) and value (2)");
    }
    std::string_view bytes = r.lengthDelimited();
    if (number == 1) {
      key = text(bytes, path);
    } else if (type == Type::StringMap) {
      value = text(bytes, path + "." + key);
    } else if (type == Type::BytesMap) {
      value = base64Encode(bytes);
    } else {
      value = decodeQuantity(bytes, path + "." + key);
    }
  }
  return {key, value};
}

json decodeMessage(std::string_view data, const Message& m, const std::string& path,
                   const std::string& kind);

int wireTypeOf(Type type) {
  switch (type) {
    case Type::Bool:
    case Type::Int32:
    case Type::Int64:
      return kVarint;
    default:
      return kLengthDelimited;
  }
}

json decodeMessage(std::string_view data, const Message& m, const std::string& path,
                   const std::string& kind) {
  Reader r(data);
  json out = json::object();
  std::vector<std::uint64_t> seen;
  while (!r.done()) {
    auto [number, wire] = r.tag();
    const Field* field = nullptr;
    for (const Field& f : m.fields) {
      if (static_cast<std::uint64_t>(f.number) == number) field = &f;
    }
    if (field == nullptr) {
      throw notDecodedError("field number " + std::to_string(number) + " of " + m.name +
                            (path.empty() ? std::string() : " (" + path + ")") + " in a " + kind);
    }
    const std::string at = join(path, field->name);
    if (field->type == Type::NotDecoded) throw notDecodedError(at + " in a " + kind);
    if (wire != wireTypeOf(field->type)) {
      throw malformed(at + " has wire type " + std::to_string(wire));
    }
    const bool isMap = field->type == Type::StringMap || field->type == Type::BytesMap ||
                       field->type == Type::QuantityMap;
    if (!field->repeated && !isMap) {
      for (std::uint64_t n : seen) {
        if (n == number) throw malformed(at + " appears more than once");
      }
      seen.push_back(number);
    }
    if (isMap) {
      auto [key, value] = decodeEntry(r.lengthDelimited(), field->type, at);
      if (!out.contains(field->name)) out[field->name] = json::object();
      out[field->name][key] = std::move(value);
      continue;
    }
    json value;
    bool zero = false;
    switch (field->type) {
      case Type::String: {
        std::string s = text(r.lengthDelimited(), at);
        zero = s.empty();
        value = std::move(s);
        break;
      }
      case Type::Bytes: {
        std::string_view bytes = r.lengthDelimited();
        zero = bytes.empty();
        value = base64Encode(bytes);
        break;
      }
      case Type::Bool: {
        const bool b = r.varint() != 0;
        zero = !b;
        value = b;
        break;
      }
      case Type::Int32: {
        const auto v = static_cast<std::int32_t>(static_cast<std::uint32_t>(r.varint()));
        zero = v == 0;
        value = v;
        break;
      }
      case Type::Int64: {
        const auto v = static_cast<std::int64_t>(r.varint());
        zero = v == 0;
        value = v;
        break;
      }
      case Type::Message: {
        const std::string item =
            field->repeated
                ? at + "[" +
                      std::to_string(out.contains(field->name) ? out[field->name].size() : 0) + "]"
                : at;
        value = decodeMessage(r.lengthDelimited(), *field->message, item, kind);
        break;
      }
      case Type::Time: {
        auto time = decodeTime(r.lengthDelimited(), at);
        zero = !time;
        if (time) value = *time;
        break;
      }
      case Type::IntOrString:
        value = decodeIntOrString(r.lengthDelimited(), at);
        break;
      case Type::Quantity:
        value = decodeQuantity(r.lengthDelimited(), at);
        break;
      default:
        throw notDecodedError(at + " in a " + kind);
    }
    if (field->repeated) {
      if (!out.contains(field->name)) out[field->name] = json::array();
      out[field->name].push_back(std::move(value));
    } else if (!zero || field->keepZero) {
      out[field->name] = std::move(value);
    }
  }
  return out;
}

}  // namespace

bool isProtobufContentType(std::string_view contentType) {
  return contentType.starts_with("application/vnd.kubernetes.protobuf");
}

json decodeProtobuf(std::string_view body) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  if (!body.starts_with(kMagic)) {
    throw malformed("it does not start with the 4 bytes \"k8s\\0\"");
  }
  // runtime.Unknown {typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3,
  // contentType = 4}.
  Reader envelope(body.substr(kMagic.size()));
  std::string apiVersion;
  std::string kind;
  std::string_view raw;
  std::string contentEncoding;
  std::string contentType;
  while (!envelope.done()) {
    auto [number, wire] = envelope.tag();
    if (wire != kLengthDelimited || number > 4) {
      throw malformed(
          "runtime.Unknown has only typeMeta (1), raw (2), contentEncoding (3) "
          "and contentType (4)");
    }
    std::string_view bytes = envelope.lengthDelimited();
    if (number == 1) {
      Reader typeMeta(bytes);
      while (!typeMeta.done()) {
        auto [n, w] = typeMeta.tag();
        if (w != kLengthDelimited || n > 2) {
          throw malformed("TypeMeta has only apiVersion (1) and kind (2)");
        }
        std::string value = text(typeMeta.lengthDelimited(), "typeMeta");
        (n == 1 ? apiVersion : kind) = std::move(value);
      }
    } else if (number == 2) {
      raw = bytes;
    } else if (number == 3) {
      contentEncoding = text(bytes, "contentEncoding");
    } else {
      contentType = text(bytes, "contentType");
    }
  }
  if (!contentEncoding.empty()) {
    throw notDecodedError("the content encoding \"" + contentEncoding + "\"");
  }
  if (!contentType.empty() && !isProtobufContentType(contentType)) {
    throw notDecodedError("a raw object of content type \"" + contentType + "\"");
  }
  const Message* m = nullptr;
  for (const KindMessage& k : kKinds) {
    if (apiVersion == k.apiVersion && kind == k.kind) m = k.message;
  }
  if (m == nullptr) {
    throw notDecodedError(
        (kind.empty() ? std::string("a body without a kind")
                      : "the kind " + kind + " (" + apiVersion + ")") +
        " (it decodes v1 Namespace, Secret, ConfigMap, ServiceAccount, Service and apps/v1 "
        "Deployment)");
  }
  json object = decodeMessage(raw, *m, "", kind);
  object["apiVersion"] = apiVersion;
  object["kind"] = kind;
  return object;
}

}  // namespace canaryd::kubesim
