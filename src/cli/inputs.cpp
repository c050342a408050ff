#include "cli/inputs.h"

#include <cerrno>
#include <cstring>
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
