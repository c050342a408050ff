#include "kubesim/protobuf.h"

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "kubesim/api_error.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

std::string readFile(const std::string& name) {
  std::ifstream in(std::string(CANARYD_SOURCE_DIR) + "/tests/kubesim/data/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// `value` without its null members, as Go's JSON shows a zero time ("creationTimestamp": null)
// and the decoder leaves it out.
json withoutNulls(json value) {
  if (value.is_object()) {
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!it->is_null()) out[it.key()] = withoutNulls(*it);
    }
    return out;
  }
  if (value.is_array()) {
    for (json& item : value)
      item = withoutNulls(item);
  }
  return value;
}

// A protobuf encoder for the hand-made bodies below.
std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string bytesField(int number, const std::string& value) {
  return varint(static_cast<std::uint64_t>(number) << 3 | 2) + varint(value.size()) + value;
}
std::string varintField(int number, std::uint64_t value) {
  return varint(static_cast<std::uint64_t>(number) << 3) + varint(value);
}
std::string envelope(const std::string& apiVersion, const std::string& kind,
                     const std::string& raw) {
  return std::string("k8s\0", 4) + bytesField(1, bytesField(1, apiVersion) + bytesField(2, kind)) +
         bytesField(2, raw);
}

// The ApiError code decodeProtobuf throws for `body`, 0 when it decodes.
int errorCode(const std::string& body, std::string* message = nullptr) {
  try {
    decodeProtobuf(body);
    return 0;
  } catch (const ApiError& e) {
    if (message) *message = e.message;
    return e.code;
  }
}

const char* const kCaptured[] = {"namespace",  "secret",         "configmap",
                                 "deployment", "serviceaccount", "service"};

// Each body kubectl v1.32 sent for `kubectl create ...` (see data/README.md) decodes to the JSON
// kubectl prints for the same command with --dry-run=client -o json.
TEST(KubesimProtobufTest, KubectlCreateBodiesDecodeToKubectlsOwnJson) {
  for (const char* name : kCaptured) {
    SCOPED_TRACE(name);
    const json want = withoutNulls(json::parse(readFile(std::string(name) + ".json")));
    EXPECT_EQ(decodeProtobuf(readFile(std::string(name) + ".pb")), want);
  }
}

TEST(KubesimProtobufTest, DeploymentFieldsComeOutTyped) {
  const json d = decodeProtobuf(readFile("deployment.pb"));
  EXPECT_EQ(d["spec"]["replicas"], 3);
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"], 8080);
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"]["app"], "d1");
}

TEST(KubesimProtobufTest, SecretBytesAreBase64AndServicePortsIntOrString) {
  const json s = decodeProtobuf(readFile("secret.pb"));
  EXPECT_EQ(s["data"]["k"], "dg==");
  EXPECT_EQ(s["data"]["f.txt"], "ZmlsZS1jb250ZW50");
  const json svc = decodeProtobuf(readFile("service.pb"));
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 8080);
  const std::string named =
      bytesField(2, bytesField(1, bytesField(1, "http") + varintField(3, 80) +
                                      bytesField(4, varintField(1, 1) + bytesField(3, "web"))));
  EXPECT_EQ(decodeProtobuf(envelope("v1", "Service", named))["spec"]["ports"][0]["targetPort"],
            "web");
}

// A pointer field set to zero (replicas 0) is kept; a zero that Go writes for every field
// (minReadySeconds 0) is left out, as in Go's JSON.
TEST(KubesimProtobufTest, ZeroReplicasIsKept) {
  const std::string spec = varintField(1, 0) + varintField(5, 0) + varintField(7, 0);
  const json d = decodeProtobuf(envelope("apps/v1", "Deployment", bytesField(2, spec)));
  EXPECT_EQ(d["spec"], (json{{"replicas", 0}}));
}

TEST(KubesimProtobufTest, TimesAreRfc3339) {
  const std::string meta =
      bytesField(1, "n") + bytesField(8, varintField(1, 1700000000) + varintField(2, 5));
  const json ns = decodeProtobuf(envelope("v1", "Namespace", bytesField(1, meta)));
  EXPECT_EQ(ns["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
}

TEST(KubesimProtobufTest, FieldsNotDecodedAre415NamingTheField) {
  std::string message;
  // A volume in the pod template: PodSpec field 1.
  const std::string podSpec = bytesField(1, bytesField(1, "data"));
  const std::string spec = bytesField(3, bytesField(2, podSpec));
  EXPECT_EQ(errorCode(envelope("apps/v1", "Deployment", bytesField(2, spec)), &message), 415);
  EXPECT_NE(message.find("spec.template.spec.volumes in a Deployment"), std::string::npos)
      << message;
  EXPECT_NE(message.find("kubectl apply -f"), std::string::npos) << message;
  // A field number the decoder does not know.
  const std::string meta = bytesField(1, "n") + varintField(99, 1);
  EXPECT_EQ(errorCode(envelope("v1", "Namespace", bytesField(1, meta)), &message), 415);
  EXPECT_NE(message.find("field number 99 of ObjectMeta (metadata) in a Namespace"),
            std::string::npos)
      << message;
  // A kind the decoder does not know.
  EXPECT_EQ(errorCode(envelope("v1", "Pod", ""), &message), 415);
  EXPECT_NE(message.find("the kind Pod (v1)"), std::string::npos) << message;
  // A compressed raw object.
  EXPECT_EQ(errorCode(envelope("v1", "Namespace", "") + bytesField(3, "gzip"), &message), 415);
}

TEST(KubesimProtobufTest, MalformedBodiesAre400) {
  EXPECT_EQ(errorCode(""), 400);
  EXPECT_EQ(errorCode("{\"kind\":\"Namespace\"}"), 400);
  EXPECT_EQ(errorCode(std::string("k8s\0", 4) + "\x0a\xff"), 400);
  // A length far past the end.
  EXPECT_EQ(errorCode(std::string("k8s\0", 4) + "\x12\xff\xff\xff\xff\x0f"), 400);
  // A varint of 11 bytes.
  EXPECT_EQ(errorCode(std::string("k8s\0", 4) + std::string(11, '\xff')), 400);
  // A group (wire type 3) and field number 0.
  EXPECT_EQ(errorCode(envelope("v1", "Namespace", "\x0b")), 400);
  EXPECT_EQ(errorCode(envelope("v1", "Namespace", std::string("\x02\x00", 2))), 400);
  // A string field sent as a varint; the same field twice; invalid UTF-8.
  EXPECT_EQ(errorCode(envelope("v1", "Namespace", bytesField(1, varintField(1, 5)))), 400);
  EXPECT_EQ(errorCode(envelope("v1", "Namespace",
                               bytesField(1, bytesField(1, "a") + bytesField(1, "b")))),
            400);
  EXPECT_EQ(errorCode(envelope("v1", "Namespace", bytesField(1, bytesField(1, "\xc3\x28")))), 400);
  // A time past year 9999 and an IntOrString of type 2.
  const std::string late = bytesField(8, varintField(1, 253402300800ULL));
  EXPECT_EQ(errorCode(envelope("v1", "Namespace", bytesField(1, late))), 400);
  const std::string port = bytesField(1, bytesField(4, varintField(1, 2)));
  EXPECT_EQ(errorCode(envelope("v1", "Service", bytesField(2, port))), 400);
}

// Hostile input: every prefix of every captured body, and many corrupted copies, either decode
// or are refused with 400 or 415; nothing else is thrown and nothing crashes (the ASan+UBSan
// build runs this too).
TEST(KubesimProtobufTest, TruncatedAndCorruptedBodiesNeverCrash) {
  auto check = [](const std::string& body) {
    try {
      decodeProtobuf(body).dump();
    } catch (const ApiError& e) {
      EXPECT_TRUE(e.code == 400 || e.code == 415) << e.code << " " << e.message;
    }
  };
  std::mt19937 rng(28);
  for (const char* name : kCaptured) {
    const std::string body = readFile(std::string(name) + ".pb");
    for (std::size_t n = 0; n < body.size(); ++n) {
      check(body.substr(0, n));
    }
    for (int i = 0; i < 2000; ++i) {
      std::string corrupted = body;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = 4 + rng() % (corrupted.size() - 4);
        corrupted[at] = static_cast<char>(rng() % 256);
      }
      check(corrupted);
    }
  }
  for (int i = 0; i < 2000; ++i) {
    std::string garbage("k8s\0", 4);
    const std::size_t size = rng() % 64;
    for (std::size_t k = 0; k < size; ++k)
      garbage += static_cast<char>(rng() % 256);
    check(garbage);
  }
}

}  // namespace
}  // namespace canaryd::kubesim
