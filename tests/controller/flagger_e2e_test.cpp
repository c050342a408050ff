// Flagger's own end-to-end Canaries (tests/data/flagger-e2e/, copied unchanged from its test
// scripts) under canaryd's reconciler, with the daemon's --provider set to the mesh provider
// Flagger runs them with, against the simulator's cluster (kubesim's store and API semantics)
// with the providers' CRDs installed and only the target and its companions created: each
// Canary is accepted by the validator, Initialized, and a new image walks the weight in the
// provider's own object in step with status.canaryWeight to a promotion; a second image with
// failing metrics rolls back. Knative's case targets a Knative Service, whose Revisions the
// simulator's cluster makes as Knative would (kubesim/knative_serving.h). Webhooks (Flagger's load
// tester) answer 200; the metrics server's answers are the case's: healthy values, then failing
// ones.
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/api/document.h"
#include "canaryd/api/validate.h"
#include "canaryd/cluster/knative.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/controller/reconciler.h"
#include "canaryd/sim/cluster.h"

#include "support/plugins.h"
#include "support/sim_reconciler.h"
#include "support/source_files.h"

namespace canaryd {
namespace {

using nlohmann::json;

// A provider object's canary weight, read the way its data plane reads it; nothing when the
// object does not say.
using WeightReader = std::function<std::optional<std::int64_t>(const json& object)>;

struct E2eCase {
  std::string name;          // tests/data/flagger-e2e/<name>.yaml (+ -companions.yaml)
  std::string meshProvider;  // Flagger's -mesh-provider for it
  // The companions' CRDs the simulator's cluster does not serve (it serves the routers').
  std::vector<cluster::Resource> crds;
  cluster::Resource routing;  // the provider's object holding the weights
  std::string routingNamespace;
  std::string routingName;
  WeightReader canaryWeight;
  // The target a new image is patched into (Flagger's scripts: the Deployment podinfo, or
  // Knative's Service podinfo).
  cluster::Resource target = cluster::kDeployments;
};

void PrintTo(const E2eCase& c, std::ostream* out) {
  *out << c.name;
}

// Stand-in metrics server, answering by what a query measures: an error rate (`100 - ...`) is
// 0.1 % while healthy and 50 % when failing; a success rate (a ratio `... * 100`) 99.5 % or
// 0 %; anything else is a latency, low (below every e2e Canary's maximum: 0.5 s, 300 ms,
// 500 ms) either way.
class StandInProvider final : public metrics::Provider {
 public:
  explicit StandInProvider(bool healthy) : healthy_(healthy) {}
  Result<double> query(const std::string& text) override {
    std::string q;
    for (char c : text)
      if (!std::isspace(static_cast<unsigned char>(c))) q.push_back(c);
    if (q.rfind("100-", 0) == 0) return healthy_ ? 0.1 : 50.0;
    if (q.size() >= 4 && q.compare(q.size() - 4, 4, "*100") == 0) return healthy_ ? 99.5 : 0.0;
    return 0.1;
  }
  Result<std::vector<double>> queryRange(const std::string&, TimePoint, TimePoint,
                                         Duration) override {
    return Error::invalidInput("the stand-in metrics server answers instant queries only");
  }

 private:
  bool healthy_;
};

const json* child(const json& parent, const char* key) {
  return parent.is_object() && parent.contains(key) ? &parent[key] : nullptr;
}

// The weight of the entry of `list` for which `names` finds the canary's backend.
std::optional<std::int64_t> weightOf(const json* list,
                                     const std::function<bool(const json&)>& isCanary,
                                     const char* field = "weight") {
  if (list == nullptr || !list->is_array()) return std::nullopt;
  for (const json& entry : *list) {
    if (!isCanary(entry)) continue;
    const json* weight = child(entry, field);
    if (weight != nullptr && weight->is_number_integer()) return weight->get<std::int64_t>();
    return 0;  // omitted weight: Kubernetes' JSON drops zeros
  }
  return std::nullopt;
}

std::string text(const json* value) {
  return value != nullptr && value->is_string() ? value->get<std::string>() : "";
}

// Istio: the last HTTP route that sends anything to the canary host.
std::optional<std::int64_t> istioWeight(const json& vs) {
  const json* spec = child(vs, "spec");
  const json* http = spec ? child(*spec, "http") : nullptr;
  std::optional<std::int64_t> weight;
  if (http == nullptr || !http->is_array()) return weight;
  for (const json& route : *http) {
    auto w = weightOf(child(route, "route"), [](const json& d) {
      const json* dest = child(d, "destination");
      return dest && text(child(*dest, "host")) == "podinfo-canary";
    });
    if (w) weight = w;
  }
  return weight;
}

// Gateway API: the rule's backendRef named <apex>-canary.
std::optional<std::int64_t> httpRouteWeight(const json& route) {
  const json* spec = child(route, "spec");
  const json* rules = spec ? child(*spec, "rules") : nullptr;
  std::optional<std::int64_t> weight;
  if (rules == nullptr || !rules->is_array()) return weight;
  for (const json& rule : *rules) {
    auto w = weightOf(child(rule, "backendRefs"),
                      [](const json& b) { return text(child(b, "name")) == "podinfo-canary"; });
    if (w) weight = w;
  }
  return weight;
}

// Kuma: the split to the canary Service's Kuma service tag.
std::optional<std::int64_t> kumaWeight(const json& route) {
  const json* spec = child(route, "spec");
  const json* conf = spec ? child(*spec, "conf") : nullptr;
  return weightOf(conf ? child(*conf, "split") : nullptr, [](const json& s) {
    const json* dest = child(s, "destination");
    return dest && text(child(*dest, "kuma.io/service")).rfind("podinfo-canary_", 0) == 0;
  });
}

// An annotation holding a whole number (nginx's canary-weight); nothing when absent.
std::optional<std::int64_t> annotationNumber(const json& object, const std::string& key) {
  const json* meta = child(object, "metadata");
  const json* annotations = meta ? child(*meta, "annotations") : nullptr;
  const std::string value = annotations ? text(child(*annotations, key.c_str())) : "";
  if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(value);
}

std::optional<std::int64_t> nginxWeight(const json& ingress) {
  return annotationNumber(ingress, "nginx.ingress.kubernetes.io/canary-weight");
}

// Skipper: the canary Service's entry of the backend-weights annotation (a JSON object).
std::optional<std::int64_t> skipperWeight(const json& ingress) {
  const json* meta = child(ingress, "metadata");
  const json* annotations = meta ? child(*meta, "annotations") : nullptr;
  const json weights = json::parse(
      annotations ? text(child(*annotations, "zalando.org/backend-weights")) : "", nullptr, false);
  const json* canary = child(weights, "podinfo-service-canary");
  if (canary == nullptr || !canary->is_number_integer()) return std::nullopt;
  return canary->get<std::int64_t>();
}

// Contour: the HTTPProxy route's service <apex>-canary (Contour omits a weight of 0).
std::optional<std::int64_t> contourWeight(const json& proxy) {
  const json* spec = child(proxy, "spec");
  const json* routes = spec ? child(*spec, "routes") : nullptr;
  std::optional<std::int64_t> weight;
  if (routes == nullptr || !routes->is_array()) return weight;
  for (const json& route : *routes) {
    auto w = weightOf(child(route, "services"),
                      [](const json& s) { return text(child(s, "name")) == "podinfo-canary"; });
    if (w) weight = w;
  }
  return weight;
}

// Gloo: the RouteTable's destination on the canary Upstream (<ns>-<apex>-canaryupstream-<port>).
std::optional<std::int64_t> glooWeight(const json& table) {
  const json* spec = child(table, "spec");
  const json* routes = spec ? child(*spec, "routes") : nullptr;
  std::optional<std::int64_t> weight;
  if (routes == nullptr || !routes->is_array()) return weight;
  for (const json& route : *routes) {
    const json* action = child(route, "routeAction");
    const json* multi = action ? child(*action, "multi") : nullptr;
    auto w = weightOf(multi ? child(*multi, "destinations") : nullptr, [](const json& d) {
      const json* dest = child(d, "destination");
      const json* upstream = dest ? child(*dest, "upstream") : nullptr;
      return upstream != nullptr &&
             text(child(*upstream, "name")).find("-podinfo-canaryupstream-") != std::string::npos;
    });
    if (w) weight = w;
  }
  return weight;
}

// Traefik: the TraefikService's weighted service <apex>-canary (dropped at weight 0).
std::optional<std::int64_t> traefikWeight(const json& service) {
  const json* spec = child(service, "spec");
  const json* weighted = spec ? child(*spec, "weighted") : nullptr;
  if (weighted == nullptr) return std::nullopt;
  return weightOf(child(*weighted, "services"),
                  [](const json& s) { return text(child(s, "name")) == "podinfo-canary"; })
      .value_or(0);
}

// APISIX: the canary ApisixRoute's backend <apex>-canary.
std::optional<std::int64_t> apisixWeight(const json& route) {
  const json* spec = child(route, "spec");
  const json* http = spec ? child(*spec, "http") : nullptr;
  std::optional<std::int64_t> weight;
  if (http == nullptr || !http->is_array()) return weight;
  for (const json& rule : *http) {
    auto w = weightOf(child(rule, "backends"), [](const json& b) {
      return text(child(b, "serviceName")) == "podinfo-canary";
    });
    if (w) weight = w;
  }
  return weight;
}

// Knative: the Knative Service's spec.traffic entry for its latest Revision.
std::optional<std::int64_t> knativeWeight(const json& service) {
  const json* spec = child(service, "spec");
  return weightOf(
      spec ? child(*spec, "traffic") : nullptr,
      [](const json& t) {
        const json* latest = child(t, "latestRevision");
        return latest != nullptr && latest->is_boolean() && latest->get<bool>();
      },
      "percent");
}

cluster::Resource crdResource(const std::string& group, const std::string& version,
                              const std::string& plural, const std::string& kind,
                              bool namespaced = true) {
  return {group, version, plural, namespaced, kind};
}

const cluster::Resource kVirtualServices =
    crdResource("networking.istio.io", "v1beta1", "virtualservices", "VirtualService");
const cluster::Resource kTrafficRoutes =
    crdResource("kuma.io", "v1alpha1", "trafficroutes", "TrafficRoute", false);
const cluster::Resource kTrafficPermissions =
    crdResource("kuma.io", "v1alpha1", "trafficpermissions", "TrafficPermission", false);
const cluster::Resource kGateways =
    crdResource("gateway.networking.k8s.io", "v1beta1", "gateways", "Gateway");
const cluster::Resource kHttpRoutesV1beta1 =
    crdResource("gateway.networking.k8s.io", "v1beta1", "httproutes", "HTTPRoute");
const cluster::Resource kIstioGateways =
    crdResource("networking.istio.io", "v1alpha3", "gateways", "Gateway");
const cluster::Resource kIngresses = crdResource("networking.k8s.io", "v1", "ingresses", "Ingress");
const cluster::Resource kHttpProxies =
    crdResource("projectcontour.io", "v1", "httpproxies", "HTTPProxy");
const cluster::Resource kRouteTables =
    crdResource("gateway.solo.io", "v1", "routetables", "RouteTable");
const cluster::Resource kGlooVirtualServices =
    crdResource("gateway.solo.io", "v1", "virtualservices", "VirtualService");
const cluster::Resource kUpstreams = crdResource("gloo.solo.io", "v1", "upstreams", "Upstream");
const cluster::Resource kTraefikServices =
    crdResource("traefik.io", "v1alpha1", "traefikservices", "TraefikService");
const cluster::Resource kIngressRoutes =
    crdResource("traefik.io", "v1alpha1", "ingressroutes", "IngressRoute");
const cluster::Resource kApisixRoutes =
    crdResource("apisix.apache.org", "v2", "apisixroutes", "ApisixRoute");

// A CustomResourceDefinition with an open schema serving `r`.
json crdFor(const cluster::Resource& r) {
  std::string singular = r.kind;
  for (char& c : singular)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", r.resource + "." + r.group}}},
          {"spec",
           {{"group", r.group},
            {"scope", r.namespaced ? "Namespaced" : "Cluster"},
            {"names", {{"plural", r.resource}, {"singular", singular}, {"kind", r.kind}}},
            {"versions",
             {{{"name", r.version},
               {"served", true},
               {"storage", true},
               {"schema",
                {{"openAPIV3Schema",
                  {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}},
               {"subresources", {{"status", json::object()}}}}}}}}};
}

class FlaggerE2eTest : public ::testing::TestWithParam<E2eCase> {
 protected:
  void SetUp() override {
    for (const cluster::Resource& r : GetParam().crds) {
      Result<api::JsonValue> made =
          cluster().create(cluster::kCustomResourceDefinitions, "", api::JsonValue(crdFor(r)));
      ASSERT_TRUE(made.ok() || made.error().kind() == ErrorKind::kConflict)
          << made.error().message();
      known_.push_back(r);
    }
    known_.insert(known_.end(),
                  {cluster::kNamespaces, cluster::kSecrets, cluster::kServices,
                   cluster::kDeployments, cluster::kCanaries, cluster::kMetricTemplates, kIngresses,
                   kUpstreams, GetParam().routing});
  }

  sim::Cluster& cluster() { return sim_.cluster; }

  // Creates the documents of a file of tests/data/flagger-e2e/ (their namespaces first; the
  // first `limit` of them), in the Canary's namespace when one names none, as `kubectl apply -n
  // <ns>` does.
  void apply(const std::string& file, std::size_t limit = SIZE_MAX) {
    auto docs = api::parseYamlDocuments(
        testing::readFile(testing::sourcePath("tests/data/flagger-e2e/" + file)), file);
    ASSERT_TRUE(docs.ok()) << docs.error().message();
    for (std::size_t i = 0; i < docs->size() && i < limit; ++i) {
      json object = (*docs)[i].body.get();
      const std::string apiVersion = object.value("apiVersion", "");
      const std::string kind = object.value("kind", "");
      const cluster::Resource* resource = nullptr;
      for (const cluster::Resource& r : known_) {
        if (r.apiVersion() == apiVersion && r.kind == kind) resource = &r;
      }
      ASSERT_NE(resource, nullptr) << file << ": no resource for " << apiVersion << " " << kind;
      std::string ns;
      if (resource->namespaced) {
        ns = object["metadata"].value("namespace", canaryNs_);
        object["metadata"]["namespace"] = ns;
        ensureNamespace(ns);
      }
      Result<api::JsonValue> made = cluster().create(*resource, ns, api::JsonValue(object));
      ASSERT_TRUE(made.ok()) << file << ": " << kind << ": " << made.error().message();
    }
  }

  void ensureNamespace(const std::string& ns) {
    if (!namespaces_.insert(ns).second) return;
    (void)cluster().create(cluster::kNamespaces, "",
                           api::JsonValue(json{{"metadata", {{"name", ns}}}}));
  }

  api::CanaryStatus status() {
    Result<api::Canary> c = cluster::getCanary(cluster(), {canaryNs_, canaryName_});
    return c.ok() && c->status ? *c->status : api::CanaryStatus{};
  }

  std::optional<std::int64_t> providerWeight() {
    const E2eCase& c = GetParam();
    Result<api::JsonValue> object = cluster().get(c.routing, {c.routingNamespace, c.routingName});
    if (!object) return std::nullopt;
    return c.canaryWeight(object->get());
  }

  // Reconciles a second of virtual time at a time until the phase is `wanted`; at every
  // reconcile of a progressing analysis the provider's object must carry status.canaryWeight.
  // Returns the weights seen.
  std::set<std::int64_t> runUntil(const std::string& wanted) {
    std::set<std::int64_t> seen;
    for (int i = 0; i < 3000 && status().phase.value_or("") != wanted; ++i) {
      cluster().settle();
      Result<controller::ReconcileOutcome> done = reconciler_.reconcile({canaryNs_, canaryName_});
      EXPECT_TRUE(done.ok() || done.error().kind() == ErrorKind::kConflict)
          << done.error().message();
      const api::CanaryStatus s = status();
      if (s.phase.value_or("") == "Progressing") {
        const std::int64_t weight = s.canaryWeight.value_or(0);
        EXPECT_EQ(providerWeight(), weight) << "at status.canaryWeight " << weight;
        seen.insert(weight);
        if (sessionAffinity_ && weight > 0) checkStickyRoutes(s);
      }
      sim_.clock.advance(std::chrono::seconds(1));
    }
    EXPECT_EQ(status().phase.value_or(""), wanted);
    return seen;
  }

  // With session affinity, the canary's cookie is in the status and the provider's object
  // routes requests that carry it (the cookie's value appears in a route's match).
  void checkStickyRoutes(const api::CanaryStatus& s) {
    const std::string cookie = s.sessionAffinityCookie.value_or("");
    ASSERT_FALSE(cookie.empty()) << "no session cookie at weight " << s.canaryWeight.value_or(0);
    const E2eCase& c = GetParam();
    Result<api::JsonValue> object = cluster().get(c.routing, {c.routingNamespace, c.routingName});
    ASSERT_TRUE(object.ok());
    const std::string value = cookie.substr(cookie.find('=') + 1);
    EXPECT_NE(object->get().dump().find(".*" + value + ".*"), std::string::npos)
        << "no route matches the cookie " << cookie;
  }

  // Flagger's test-canary.sh greps the annotation; the primary Revision has all the traffic, by
  // name, next to the latest one at 0.
  void expectKnativePrimary(const std::string& primary, const std::string& latest) {
    Result<api::JsonValue> service =
        cluster().get(cluster::kKnativeServices, {canaryNs_, "podinfo"});
    ASSERT_TRUE(service.ok());
    const json& s = service->get();
    EXPECT_EQ(s["metadata"]["annotations"].value("flagger.app/primary-revision", ""), primary);
    EXPECT_EQ(s["status"].value("latestCreatedRevisionName", ""), latest);
    EXPECT_EQ(s["spec"]["traffic"], json::parse(R"([{"latestRevision": true, "percent": 0},
      {"revisionName": ")" + primary + R"(", "percent": 100}])"));
  }

  void release(const std::string& image) {
    if (GetParam().target == cluster::kKnativeServices) {
      // test/knative/test-canary.sh: kubectl patch --type=json of the first container's image.
      const json patch = json::array({{{"op", "replace"},
                                       {"path", "/spec/template/spec/containers/0/image"},
                                       {"value", image}}});
      ASSERT_TRUE(cluster()
                      .patch(cluster::kKnativeServices, {canaryNs_, "podinfo"},
                             cluster::PatchType::kJson, patch.dump())
                      .ok());
      return;
    }
    ASSERT_TRUE(
        cluster()
            .patch(
                cluster::kDeployments, {canaryNs_, "podinfo"}, cluster::PatchType::kMerge,
                json{{"spec",
                      {{"template",
                        {{"spec", {{"containers", {{{"name", "podinfod"}, {"image", image}}}}}}}}}}}
                    .dump())
            .ok());
  }

  testing::SimReconciler sim_;
  std::vector<cluster::Resource> known_;
  std::set<std::string> namespaces_;
  std::string canaryName_ = "podinfo";
  std::string canaryNs_ = "test";
  bool healthy_ = true;
  bool sessionAffinity_ = false;
  controller::Reconciler reconciler_{
      sim_.cluster, sim_.clock, sim_.notifier,
      testing::withBuiltinPlugins(
          [this] {
            controller::ReconcilerOptions o;
            o.provider = GetParam().meshProvider;
            o.webhookTransport = [this](const HttpRequest& request) -> Result<HttpResponse> {
              // Flagger's load tester: 200 while healthy; failing, its load test and acceptance
              // test fail (a Canary without metrics rolls back on them), its gates (/gate/...)
              // still open.
              HttpResponse answer;
              const bool gate = request.url.find("/gate/") != std::string::npos;
              answer.status = healthy_ || gate ? 200 : 500;
              return answer;
            };
            return o;
          }(),
          // Flagger's contour e2e runs with -ingress-class=contour.
          "contour"),
      [this](const metrics::ProviderConfig&) -> Result<std::unique_ptr<metrics::Provider>> {
        return std::unique_ptr<metrics::Provider>(new StandInProvider(healthy_));
      }};
};

TEST_P(FlaggerE2eTest, ValidatedInitializedPromotedAndRolledBackWithTheWeightsInStep) {
  const E2eCase& c = GetParam();
  // canaryd validate accepts the Canary as Flagger's controller would run it.
  json manifest = testing::yamlFile("tests/data/flagger-e2e/" + c.name + ".yaml");
  ASSERT_EQ(manifest.value("kind", ""), "Canary");
  canaryName_ = manifest["metadata"].value("name", "podinfo");
  canaryNs_ = manifest["metadata"].value("namespace", "test");
  sessionAffinity_ = manifest["spec"]["analysis"].contains("sessionAffinity");
  auto decoded = api::canaryFromJson(manifest.dump());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  const plugins::Registry& registry = plugins::builtin();
  for (const api::Problem& p :
       api::validate(api::withDefaults(*decoded), registry.catalog(c.meshProvider))) {
    EXPECT_NE(p.severity, api::Severity::kError) << p.path << ": " << p.message;
  }

  const bool knative = c.target == cluster::kKnativeServices;
  if (!knative) apply("workloads.yaml");  // Knative's init.sh deploys only the Knative Service
  apply(c.name + "-companions.yaml");
  apply(c.name + ".yaml", 1);  // the first Canary (some files hold an A/B one as well)
  runUntil("Initialized");
  ASSERT_EQ(status().phase.value_or(""), "Initialized");
  EXPECT_EQ(providerWeight(), 0);
  if (knative) expectKnativePrimary("podinfo-00001", "podinfo-00001");
  if (c.name == "contour") {
    // Flagger's contour e2e checks the HTTPProxy's class (its -ingress-class=contour).
    Result<api::JsonValue> proxy = cluster().get(c.routing, {c.routingNamespace, c.routingName});
    ASSERT_TRUE(proxy.ok());
    EXPECT_EQ(proxy->get()["spec"].value("ingressClassName", ""), "contour");
  }

  // A new image: every step of the analysis in the provider's object, then the promotion.
  release("ghcr.io/stefanprodan/podinfo:6.0.1");
  const std::set<std::int64_t> steps = runUntil("Succeeded");
  const api::Canary defaulted = api::withDefaults(*decoded);
  const api::CanaryAnalysis& analysis = *defaulted.spec.analysis;
  const std::int64_t maxWeight = analysis.maxWeight.value_or(100);
  const std::int64_t stepWeight = analysis.stepWeight.value_or(0);
  for (std::int64_t w = stepWeight; stepWeight > 0 && w <= maxWeight; w += stepWeight) {
    EXPECT_TRUE(steps.contains(w)) << "weight " << w << " never seen";
  }
  EXPECT_EQ(providerWeight(), 0);
  if (knative) expectKnativePrimary("podinfo-00002", "podinfo-00002");
  if (sessionAffinity_) {
    // Promoted: the run's cookie is the previous one now, which the routes expire.
    EXPECT_FALSE(status().sessionAffinityCookie.has_value());
    EXPECT_TRUE(status().previousSessionAffinityCookie.has_value());
  }

  // Another image, whose metrics fail: rolled back, everything on the primary.
  healthy_ = false;
  release("ghcr.io/stefanprodan/podinfo:6.0.2");
  runUntil("Failed");
  EXPECT_EQ(providerWeight(), 0);
  if (knative) expectKnativePrimary("podinfo-00002", "podinfo-00003");
}

INSTANTIATE_TEST_SUITE_P(
    Providers, FlaggerE2eTest,
    ::testing::Values(
        E2eCase{"istio", "istio", {}, kVirtualServices, "test", "podinfo", istioWeight},
        E2eCase{"kuma", "kuma", {kTrafficPermissions}, kTrafficRoutes, "", "podinfo", kumaWeight},
        E2eCase{"linkerd",
                "gatewayapi:v1beta1",
                {kGateways},
                kHttpRoutesV1beta1,
                "test",
                "podinfo",
                httpRouteWeight},
        E2eCase{"gatewayapi",
                "gatewayapi:v1",
                {kGateways},
                cluster::kHttpRoutes,
                "test",
                "podinfo",
                httpRouteWeight},
        E2eCase{"istio-session-affinity",
                "istio",
                {kIstioGateways},
                kVirtualServices,
                "test",
                "podinfo",
                istioWeight},
        E2eCase{"gatewayapi-session-affinity",
                "gatewayapi:v1",
                {kGateways},
                cluster::kHttpRoutes,
                "sa-test",
                "podinfo",
                httpRouteWeight},
        E2eCase{"nginx", "nginx", {}, kIngresses, "test", "podinfo-canary", nginxWeight},
        E2eCase{
            "skipper", "skipper", {}, kIngresses, "test", "podinfo-ingress-canary", skipperWeight},
        E2eCase{"contour", "contour", {}, kHttpProxies, "test", "podinfo", contourWeight},
        E2eCase{
            "gloo", "gloo", {kGlooVirtualServices}, kRouteTables, "test", "podinfo", glooWeight},
        E2eCase{"traefik",
                "traefik",
                {kIngressRoutes},
                kTraefikServices,
                "test",
                "podinfo",
                traefikWeight},
        E2eCase{
            "apisix", "apisix", {}, kApisixRoutes, "test", "podinfo-podinfo-canary", apisixWeight},
        E2eCase{"knative",
                "knative",
                {},
                cluster::kKnativeServices,
                "test",
                "podinfo",
                knativeWeight,
                cluster::kKnativeServices}),
    [](const auto& param) {
      std::string name = param.param.name;
      for (char& ch : name)
        if (ch == '-') ch = '_';
      return name;
    });

}  // namespace
}  // namespace canaryd
