// Reading the commands' input files ("-" is standard input).
#pragma once

#include <iosfwd>
#include <string>

#include "canaryd/core/result.h"

namespace canaryd::cli {

// The whole text of `name`, or an error naming the file and why it cannot be read.
Result<std::string> readInput(const std::string& name, std::istream& in);

}  // namespace canaryd::cli
