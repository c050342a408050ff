// hostile-server FILE|DIR [STATUS]: an HTTP server on 127.0.0.1 (a free port) for the shell
// tests of tenants' hostile servers. With a FILE it answers every request with its bytes and
// STATUS (default 200); with a DIR it answers each request with the next file of the
// directory (sorted, round robin) and prints "answered NAME" for each. hostile-server --silent:
// a listener that accepts connections into its backlog and never answers. Prints "listening on
// http://127.0.0.1:PORT" first and serves until killed.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "support/raw_http_server.h"
#include "support/source_files.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: hostile-server FILE|DIR [STATUS] | --silent\n");
    return 2;
  }
  if (std::string(argv[1]) == "--silent") {
    int port = 0;
    canaryd::testing::listenOnLoopback(port, 128);
    std::printf("listening on http://127.0.0.1:%d\n", port);
    std::fflush(stdout);
    for (;;)
      pause();
  }
  std::vector<std::pair<std::string, std::string>> answers;  // name, body
  if (fs::is_directory(argv[1])) {
    for (const auto& entry : fs::directory_iterator(argv[1])) {
      answers.emplace_back(entry.path().filename().string(),
                           canaryd::testing::readFile(entry.path().string()));
    }
    std::sort(answers.begin(), answers.end());
  } else {
    answers.emplace_back(argv[1], canaryd::testing::readFile(argv[1]));
  }
  const int status = argc > 2 ? std::atoi(argv[2]) : 200;
  std::size_t next = 0;
  const bool cycling = answers.size() > 1;
  canaryd::testing::RawHttpServer server([&](const std::string&) {
    const auto& [name, body] = answers[next++ % answers.size()];
    if (cycling) {
      std::printf("answered %s\n", name.c_str());
      std::fflush(stdout);
    }
    return canaryd::testing::RawHttpServer::response(status, body);
  });
  std::printf("listening on %s\n", server.url().c_str());
  std::fflush(stdout);
  for (;;)
    pause();  // until SIGTERM ends the process
}
