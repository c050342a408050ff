// hostile-server FILE [STATUS]: an HTTP server on 127.0.0.1 (a free port) that answers every
// request with the bytes of FILE and STATUS (default 200), for the shell tests of tenants'
// hostile servers; hostile-server --silent: a listener that accepts connections into its
// backlog and never answers. Prints "listening on http://127.0.0.1:PORT" and serves until
// killed.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "support/raw_http_server.h"
#include "support/source_files.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: hostile-server FILE [STATUS]\n");
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
  const std::string body = canaryd::testing::readFile(argv[1]);
  const int status = argc > 2 ? std::atoi(argv[2]) : 200;
  canaryd::testing::RawHttpServer server(
      [&](const std::string&) { return canaryd::testing::RawHttpServer::response(status, body); });
  std::printf("listening on %s\n", server.url().c_str());
  std::fflush(stdout);
  for (;;)
    pause();  // until SIGTERM ends the process
}
