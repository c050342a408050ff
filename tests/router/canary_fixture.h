// The routers' tests: a Canary from a JSON manifest, with Flagger's defaults and a uid (the
// owner reference a router writes), failing the calling test when it does not decode.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"

namespace canaryd::testing {

inline api::Canary decodeCanary(const nlohmann::json& manifest) {
  auto decoded = api::canaryFromJson(manifest.dump());
  EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().message());
  api::Canary canary = api::withDefaults(decoded.ok() ? *decoded : api::Canary{});
  canary.metadata.uid = "uid-1";
  return canary;
}

}  // namespace canaryd::testing
