// Catalog: what the plugins a command was built with can do, as the validator needs it — each
// router's provider name, capabilities and own checks, each metric provider's type and checks,
// each alert notifier's type.
//
// The composition root builds it from its registries (plugins/registry.h) and hands it to
// validate(); the api layer only reads it, so no dependency points up. `canaryd validate` and
// `canaryd run` judge a Canary by the same catalog: what one accepts, the other does. Plain data;
// thread-compatible.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "canaryd/api/canary.h"
#include "canaryd/api/metric_template.h"

namespace canaryd::api {

// {field path, message}, as Problem without position and severity (errors).
using FieldProblems = std::vector<std::pair<std::string, std::string>>;

// What a router can do with a Canary's analysis and target.
struct RouterCapabilities {
  bool weights = false;          // weighted steps: stepWeight, stepWeights, maxWeight
  bool matching = false;         // analysis.match: header, cookie and query matches (A/B)
  bool mirroring = false;        // analysis.mirror
  bool mirrorWeight = false;     // analysis.mirrorWeight (a percentage of the mirrored traffic)
  bool sessionAffinity = false;  // analysis.sessionAffinity (cookie-pinned canary users)
  std::vector<std::string> targetKinds = {"Deployment"};  // spec.targetRef.kind
};

struct RouterEntry {
  std::string name;  // spec.provider, e.g. "gatewayapi:v1"
  RouterCapabilities can;
  // The router's own rules (annotations, references it needs); null: none.
  std::function<FieldProblems(const Canary&)> check;
};

struct MetricProviderEntry {
  std::string type;  // MetricTemplate spec.provider.type
  // The provider's own rules for a template; null: none.
  std::function<FieldProblems(const MetricTemplate&)> check;
};

struct NotifierEntry {
  std::string type;  // AlertProvider spec.type
};

struct Catalog {
  std::vector<RouterEntry> routers;
  std::vector<MetricProviderEntry> metricProviders;
  std::vector<NotifierEntry> notifiers;
  // The router of a Canary that names none (canaryd run --provider, Flagger's -mesh-provider).
  std::string defaultProvider = "kubernetes";
  // The providers whose built-in queries count the canary's and the primary's requests and
  // errors apart (what the sequential judge needs); empty: not known, not checked.
  std::vector<std::string> judgeCountProviders;

  const RouterEntry* router(std::string_view name) const;
  const MetricProviderEntry* metricProvider(std::string_view type) const;
  bool hasNotifier(std::string_view type) const;
  std::vector<std::string> routerNames() const;
  std::vector<std::string> metricProviderTypes() const;
  std::vector<std::string> notifierTypes() const;
  // The routers that can do what `can` says (those whose capability is set), for messages.
  std::vector<std::string> routersThat(bool RouterCapabilities::*capability) const;
  std::vector<std::string> routersFor(std::string_view targetKind) const;
};

// What the Canary's router (spec.provider, else the catalog's default) cannot do of the Canary:
// an unknown provider, a target kind, weights, matching, mirroring, session affinity, and the
// router's own checks; each problem names the field and the providers that could. Part of
// validate(Canary, Catalog); `canaryd run` stalls the Canary on the same problems.
FieldProblems routerProblems(const Catalog& catalog, const Canary& canary);

}  // namespace canaryd::api
