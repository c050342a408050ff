#include "cli/inputs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

namespace canaryd::cli {

Result<std::string> readInput(const std::string& name, std::istream& in) {
  std::stringstream text;
  if (name == "-") {
    text << in.rdbuf();
    return text.str();
  }
  std::ifstream file(name, std::ios::binary);
  if (!file) return Error::invalidInput("cannot read " + name + ": " + std::strerror(errno));
  text << file.rdbuf();
  return text.str();
}

Result<std::vector<std::string>> expandInputs(const std::vector<std::string>& names,
                                              bool recursive) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const std::string& name : names) {
    std::error_code ec;
    if (name == "-" || !fs::is_directory(name, ec)) {
      out.push_back(name);  // a file, or what readInput will report
      continue;
    }
    std::vector<std::string> found;
    auto take = [&](const fs::directory_entry& entry) {
      const std::string ext = entry.path().extension().string();
      if (entry.is_regular_file(ec) && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
        found.push_back(entry.path().string());
      }
    };
    if (recursive) {
      for (fs::recursive_directory_iterator it(name, ec), end; !ec && it != end; it.increment(ec))
        take(*it);
    } else {
      for (fs::directory_iterator it(name, ec), end; !ec && it != end; it.increment(ec))
        take(*it);
    }
    if (ec) return Error::invalidInput("cannot read the directory " + name + ": " + ec.message());
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

int forEachDocument(const std::vector<std::string>& files, std::istream& in, std::ostream& err,
                    std::string_view command,
                    const std::function<void(const api::Document&)>& each) {
  for (const std::string& name : files) {
    Result<std::string> text = readInput(name, in);
    if (!text) {
      err << "canaryd " << command << ": " << text.error().message() << "\n";
      return 2;
    }
    Result<std::vector<api::Document>> docs = api::parseYamlDocuments(*text, name);
    if (!docs) {
      err << "canaryd " << command << ": " << docs.error().message() << "\n";
      return 1;
    }
    for (const api::Document& doc : *docs)
      each(doc);
  }
  return 0;
}

}  // namespace canaryd::cli
