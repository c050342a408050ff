// What the notifier tests share: a Canary, the alerts the controller sends (with the fields the
// reconciler attaches), every built-in notifier plugin, and the golden files of
// tests/notify/golden/ (one per provider type and event).
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/notify/alert_providers.h"

#include "support/source_files.h"

namespace canaryd::notify {

// What the composition root registers; the tests' stand-in for it.
inline std::vector<NotifierPlugin> allNotifiersForTest() {
  std::vector<NotifierPlugin> all;
  for (auto plugins : {slackNotifiers, teamsNotifiers, gchatNotifiers, webhookNotifiers,
                       alertmanagerNotifiers, pagerdutyNotifiers}) {
    for (NotifierPlugin& plugin : plugins())
      all.push_back(std::move(plugin));
  }
  return all;
}

inline api::Canary canary(const std::string& alerts = "[]") {
  auto c = api::canaryFromJson(R"({"apiVersion":"flagger.app/v1beta1","kind":"Canary",
      "metadata":{"name":"podinfo","namespace":"test"},
      "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
              "service":{"port":9898},
              "analysis":{"interval":"1m","threshold":5,"stepWeight":10,"alerts":)" +
                               alerts + "}}}");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return *c;
}

inline Alert rollback() {
  Alert a;
  a.severity = "error";
  a.phase = "Failed";
  a.message = "Canary podinfo.test rolled back: failed checks threshold reached 5";
  a.fields = {{"revision", "podinfo=ghcr.io/stefanprodan/podinfo:6.0.1"},
              {"phase", "Failed"},
              {"canaryWeight", "0"},
              {"failedChecks", "5 of 5"},
              {"last failed check", "request-success-rate 91.3 < 99"},
              {"metric", "request-success-rate"},
              {"value", "91.3"},
              {"thresholdRange", "min 99"},
              {"next",
               "the primary keeps serving the last promoted revision and the canary is scaled "
               "to zero; a new revision of the target (a fix, or the revert in Git) starts a "
               "new analysis"}};
  a.time = parseRfc3339("2026-11-27T10:00:00Z").value();
  return a;
}

inline Alert promoted() {
  Alert a;
  a.severity = "info";
  a.phase = "Succeeded";
  a.message = "Promotion completed! podinfo.test";
  a.fields = {
      {"revision", "podinfo=ghcr.io/stefanprodan/podinfo:6.0.2"},
      {"phase", "Succeeded"},
      {"canaryWeight", "0"},
      {"failedChecks", "0 of 5"},
      {"next", "none: the primary serves this revision; the next one starts a new analysis"}};
  a.time = parseRfc3339("2026-11-27T10:30:00Z").value();
  return a;
}

inline Alert progressing() {
  Alert a;
  a.severity = "info";
  a.phase = "Progressing";
  a.message = "New revision detected, progressing canary analysis podinfo.test";
  a.fields = {{"revision", "podinfo=ghcr.io/stefanprodan/podinfo:6.0.2"},
              {"phase", "Progressing"},
              {"canaryWeight", "0"},
              {"failedChecks", "0 of 5"},
              {"next",
               "canary weight 10% once the canary is ready, up to 50% in 5 steps of 1m0s, then "
               "promotion"}};
  a.time = parseRfc3339("2026-11-27T10:20:00Z").value();
  return a;
}

inline Alert waitingPromotion() {
  Alert a;
  a.severity = "warn";
  a.phase = "WaitingPromotion";
  a.message = "Canary is waiting for promotion approval podinfo.test";
  a.fields = {{"revision", "podinfo=ghcr.io/stefanprodan/podinfo:6.0.2"},
              {"phase", "WaitingPromotion"},
              {"canaryWeight", "50"},
              {"failedChecks", "0 of 5"},
              {"next", "promotion once the confirm-promotion hooks approve"}};
  a.time = parseRfc3339("2026-11-27T10:25:00Z").value();
  return a;
}

// Each event by the name its golden files carry (<type>-<event>.json).
inline std::vector<std::pair<std::string, Alert>> events() {
  return {{"rollback", rollback()},
          {"promoted", promoted()},
          {"progressing", progressing()},
          {"waiting-promotion", waitingPromotion()}};
}

// Compares with tests/notify/golden/NAME; CANARYD_UPDATE_GOLDEN=1 rewrites the file instead
// (review the diff before committing it).
inline void expectGolden(const std::string& body, const std::string& name) {
  const std::string path = testing::sourcePath("tests/notify/golden/" + name);
  const char* update = std::getenv("CANARYD_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path) << nlohmann::json::parse(body).dump(2) << "\n";
    return;
  }
  const std::string expected = testing::readFile(path);
  ASSERT_FALSE(expected.empty()) << "missing golden file " << path;
  EXPECT_EQ(nlohmann::json::parse(body), nlohmann::json::parse(expected)) << name << ": " << body;
}

// A chat provider (channel and username set) of `type` at `address`.
inline Destination chatDestination(const std::string& type, const std::string& address) {
  Destination d;
  d.type = type;
  d.address = address;
  d.channel = "on-call";
  d.username = "canaryd";
  return d;
}

// `d` told of each event through `plugins`: posts to `url`, the body its golden file.
inline void expectEachEventGolden(const std::vector<NotifierPlugin>& plugins, const Destination& d,
                                  const std::string& url) {
  for (const auto& [event, alert] : events()) {
    Result<std::optional<Delivery>> r = buildDelivery(plugins, d, canary(), alert);
    ASSERT_TRUE(r.ok() && r->has_value()) << d.type << " " << event;
    EXPECT_EQ((*r)->url, url) << d.type << " " << event;
    expectGolden((*r)->body, d.type + "-" + event + ".json");
  }
}

// The value of header `name` in `delivery`; empty when absent.
inline std::string header(const Delivery& delivery, const std::string& name) {
  for (const auto& [key, value] : delivery.headers) {
    if (key == name) return value;
  }
  return "";
}

}  // namespace canaryd::notify
