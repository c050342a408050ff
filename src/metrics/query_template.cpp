#include "canaryd/metrics/query_template.h"

#include <cctype>
#include <vector>

#include "canaryd/core/text.h"

namespace canaryd::metrics {
namespace {

// A value goes into a PromQL string ("...") as itself: quotes and backslashes escaped, so a
// variable cannot end the label matcher and add its own (PromQL injection).
std::string escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string wordOnly(std::string value) {
  for (char& c : value) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return value;
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

}  // namespace

Result<std::string> renderQuery(const std::string& query, const QueryContext& context) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const std::size_t open = query.find("{{", at);
    if (open == std::string::npos) break;
    const std::size_t close = query.find("}}", open + 2);
    if (close == std::string::npos) {
      return Error::invalidInput("query: \"{{\" at offset " + std::to_string(open) +
                                 " is not closed by \"}}\"");
    }
    out += query.substr(at, open - at);
    std::string key = trim(query.substr(open + 2, close - open - 2));
    // `{{ key | word }}`: non-word characters become "_" (how Skipper names its routes).
    bool word = false;
    if (const auto bar = key.find('|'); bar != std::string::npos) {
      const std::string filter = trim(key.substr(bar + 1));
      if (filter != "word") {
        return Error::invalidInput("query: unknown filter \"" + filter + "\" in {{ " + key +
                                   " }}; the only filter is word");
      }
      word = true;
      key = trim(key.substr(0, bar));
    }
    if (!key.empty() && key.front() == '.') key.erase(0, 1);  // Go's {{ .namespace }} form
    const std::string variablesPrefix = "variables.";
    if (key.rfind(variablesPrefix, 0) == 0) {
      const std::string name = key.substr(variablesPrefix.size());
      auto it = context.variables.find(name);
      if (it == context.variables.end()) {
        std::vector<std::string> defined;
        for (const auto& [k, v] : context.variables)
          defined.push_back(k);
        return Error::invalidInput("query: {{ " + key +
                                   " }} is not defined by the metric's templateVariables" +
                                   (defined.empty() ? std::string(" (it has none)")
                                                    : " (defined: " + join(defined, ", ") + ")"));
      }
      out += escaped(word ? wordOnly(it->second) : it->second);
    } else {
      auto it = context.values.find(key);
      if (it == context.values.end()) {
        std::vector<std::string> defined;
        for (const auto& [k, v] : context.values)
          defined.push_back(k);
        defined.push_back("variables.<key>");
        std::string hint;
        const std::vector<std::string_view> candidates(defined.begin(), defined.end());
        if (auto near = closestMatch(key, candidates)) hint = "; did you mean " + *near + "?";
        return Error::invalidInput("query: unknown template key {{ " + key +
                                   " }}; allowed: " + join(defined, ", ") + hint);
      }
      out += escaped(word ? wordOnly(it->second) : it->second);
    }
    at = close + 2;
  }
  out += query.substr(at);
  return out;
}

}  // namespace canaryd::metrics
