// Problem: one finding about a manifest, located by field path and source position.
// Plain value type.
#pragma once

#include <string>
#include <vector>

namespace canaryd::api {

enum class Severity { kError, kWarning };

struct Problem {
  Severity severity = Severity::kError;
  // Field path as users read it: "spec.analysis.webhooks[1].type"; empty for the document.
  std::string path;
  // What is wrong and what is allowed.
  std::string message;
  // 1-based position in the source; 0 when unknown (for example JSON from the API server).
  int line = 0;
  int column = 0;

  friend bool operator==(const Problem&, const Problem&) = default;
};

// True when any problem is an error (warnings do not make a manifest invalid).
bool hasErrors(const std::vector<Problem>& problems);

}  // namespace canaryd::api
