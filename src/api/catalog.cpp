#include "canaryd/api/catalog.h"

#include <algorithm>

#include "canaryd/api/enums.h"
#include "canaryd/core/text.h"

namespace canaryd::api {
namespace {

template <typename Entry, typename Key>
const Entry* findIn(const std::vector<Entry>& entries, Key key, std::string_view wanted) {
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const Entry& e) { return e.*key == wanted; });
  return it == entries.end() ? nullptr : &*it;
}

template <typename Entry, typename Key>
std::vector<std::string> namesOf(const std::vector<Entry>& entries, Key key) {
  std::vector<std::string> out;
  for (const Entry& e : entries)
    out.push_back(e.*key);
  return out;
}

// "; of canaryd's routers a and b can" / "; none of canaryd's routers can yet".
std::string whoCan(const std::vector<std::string>& routers) {
  if (routers.empty()) return "; none of canaryd's routers can yet";
  return "; of canaryd's routers " + join(routers, ", ") + " can";
}

}  // namespace

const RouterEntry* Catalog::router(std::string_view name) const {
  return findIn(routers, &RouterEntry::name, name);
}
const MetricProviderEntry* Catalog::metricProvider(std::string_view type) const {
  return findIn(metricProviders, &MetricProviderEntry::type, type);
}
bool Catalog::hasNotifier(std::string_view type) const {
  return findIn(notifiers, &NotifierEntry::type, type) != nullptr;
}
std::vector<std::string> Catalog::routerNames() const {
  return namesOf(routers, &RouterEntry::name);
}
std::vector<std::string> Catalog::metricProviderTypes() const {
  return namesOf(metricProviders, &MetricProviderEntry::type);
}
std::vector<std::string> Catalog::notifierTypes() const {
  return namesOf(notifiers, &NotifierEntry::type);
}
std::vector<std::string> Catalog::routersThat(bool RouterCapabilities::*capability) const {
  std::vector<std::string> out;
  for (const RouterEntry& r : routers) {
    if (r.can.*capability) out.push_back(r.name);
  }
  return out;
}
std::vector<std::string> Catalog::routersFor(std::string_view targetKind) const {
  std::vector<std::string> out;
  for (const RouterEntry& r : routers) {
    if (std::find(r.can.targetKinds.begin(), r.can.targetKinds.end(), targetKind) !=
        r.can.targetKinds.end()) {
      out.push_back(r.name);
    }
  }
  return out;
}

FieldProblems routerProblems(const Catalog& catalog, const Canary& canary) {
  FieldProblems problems;
  const CanarySpec& spec = canary.spec;
  const std::string provider = spec.provider.value_or(catalog.defaultProvider);
  const std::string providerPath = spec.provider ? "spec.provider" : "canaryd run --provider";
  const RouterEntry* router = catalog.router(provider);
  const std::vector<std::string> supported = catalog.routerNames();
  if (router == nullptr) {
    const auto flaggers = allowed::providers();
    const bool flaggerKnows =
        std::find(flaggers.begin(), flaggers.end(), provider) != flaggers.end();
    std::string message;
    if (flaggerKnows) {
      message = "provider " + quote(provider) +
                " has no router in canaryd yet; supported: " + join(supported, ", ");
    } else {
      message = quote(provider) + " is not allowed; must be one of: " + join(supported, ", ");
      std::vector<std::string_view> known(flaggers.begin(), flaggers.end());
      if (auto hint = closestMatch(provider, known)) {
        message += " (did you mean " + quote(*hint) + "?" +
                   (catalog.router(*hint) ? "" : " canaryd has no router for it yet") + ")";
      }
    }
    problems.emplace_back(providerPath, std::move(message));
    return problems;
  }
  const RouterCapabilities& can = router->can;
  if (spec.targetRef && spec.targetRef->kind) {
    const std::string& kind = *spec.targetRef->kind;
    const auto kinds = allowed::targetKinds();
    const bool known = std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
    if (known &&
        std::find(can.targetKinds.begin(), can.targetKinds.end(), kind) == can.targetKinds.end()) {
      const std::vector<std::string> others = catalog.routersFor(kind);
      problems.emplace_back(
          "spec.targetRef.kind",
          quote(kind) + " targets are not supported by provider " + provider + " (it takes " +
              join(can.targetKinds, ", ") + ")" +
              (others.empty() ? "; no router of canaryd takes them yet"
                              : "; of canaryd's routers " + join(others, ", ") + " take them"));
    }
  }
  const std::optional<CanaryAnalysis>& analysis =
      spec.analysis ? spec.analysis : spec.canaryAnalysis;
  if (analysis) {
    const std::string path = spec.analysis ? "spec.analysis" : "spec.canaryAnalysis";
    // Without L7 routing the matched requests of an A/B test would be all requests: refused, as
    // `canaryd run` refuses it, rather than done differently.
    if (!analysis->match.empty() && !can.matching) {
      problems.emplace_back(path + ".match",
                            "provider " + provider +
                                " cannot route by header, cookie or query, so it cannot run an "
                                "A/B test" +
                                whoCan(catalog.routersThat(&RouterCapabilities::matching)));
    }
    if (analysis->mirror.value_or(false) && !can.mirroring) {
      problems.emplace_back(path + ".mirror",
                            "provider " + provider + " cannot mirror traffic" +
                                whoCan(catalog.routersThat(&RouterCapabilities::mirroring)));
    }
    if (analysis->mirrorWeight && analysis->mirror.value_or(false) && can.mirroring &&
        !can.mirrorWeight) {
      problems.emplace_back(path + ".mirrorWeight",
                            "provider " + provider +
                                " mirrors all of the primary's traffic, not a percentage" +
                                whoCan(catalog.routersThat(&RouterCapabilities::mirrorWeight)));
    }
    if (analysis->sessionAffinity && !can.sessionAffinity) {
      problems.emplace_back(path + ".sessionAffinity",
                            "provider " + provider + " cannot pin users to the canary by cookie" +
                                whoCan(catalog.routersThat(&RouterCapabilities::sessionAffinity)));
    }
  }
  if (router->check) {
    for (auto& problem : router->check(canary))
      problems.push_back(std::move(problem));
  }
  return problems;
}

}  // namespace canaryd::api
