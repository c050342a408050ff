#include "cli/inputs.h"

#include <cerrno>
#include <cstring>
#include <fstream>
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

}  // namespace canaryd::cli
