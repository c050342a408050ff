// The files of src/metrics/queries/, embedded at build time (builtin_queries_data.cpp.in).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace canaryd::metrics {

// (file name, text) of every query file.
const std::vector<std::pair<std::string_view, std::string_view>>& embeddedQueryFiles();

}  // namespace canaryd::metrics
