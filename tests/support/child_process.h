// Stopping a test's child process: SIGTERM, then reap it so that no zombie or port is left.
#pragma once

#include <signal.h>
#include <sys/wait.h>

namespace canaryd::testing {

inline void terminateChild(pid_t& pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  pid = -1;
}

}  // namespace canaryd::testing
