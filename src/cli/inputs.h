// Reading the commands' input files ("-" is standard input).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "canaryd/api/document.h"
#include "canaryd/core/result.h"

namespace canaryd::cli {

// The whole text of `name`, or an error naming the file and why it cannot be read.
Result<std::string> readInput(const std::string& name, std::istream& in);

// The files `names` stand for, as `kubectl apply -f` reads them: a directory is its files
// ending in .yaml, .yml or .json, in name order (and its subdirectories', with `recursive`);
// files and "-" are kept as given. An error names a path that does not exist.
Result<std::vector<std::string>> expandInputs(const std::vector<std::string>& names,
                                              bool recursive);

// Reads each file in turn and hands its YAML documents to `each`, in order. Returns 0, or,
// after printing "canaryd <command>: <why>" to `err`, the exit code: 2 when a file cannot be
// read, 1 when it is not YAML.
int forEachDocument(const std::vector<std::string>& files, std::istream& in, std::ostream& err,
                    std::string_view command,
                    const std::function<void(const api::Document&)>& each);

}  // namespace canaryd::cli
