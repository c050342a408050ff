// kubesim: a local server that speaks the Kubernetes REST API well enough for canaryd's
// tests, its demo and the real kubectl. Plain HTTP on loopback; no authentication.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "canaryd/core/duration.h"

#include "kubesim/controller_simulator.h"
#include "kubesim/server.h"
#include "kubesim/workload_runner.h"

namespace {

std::atomic<bool> stopRequested{false};
void onSignal(int) {
  stopRequested = true;
}

// --background, as `kind create cluster` returns once the cluster serves: the parent forks
// before any thread starts, relays what the child prints until the child serves (it then
// points its standard output at /dev/null, which ends the pipe), and exits with 0 and the
// child's PID, or with the child's status when it could not start. Returns -1 in the child.
int forkIntoBackground() {
  int fds[2];
  if (pipe(fds) != 0) {
    std::cerr << "kubesim: --background: pipe failed\n";
    return 1;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::cerr << "kubesim: --background: fork failed\n";
    return 1;
  }
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    return -1;
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  std::cout << out;
  if (out.find("listening on") == std::string::npos) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1;
  }
  std::cout << "kubesim runs in the background as PID " << pid << " (kill " << pid << " stops it)"
            << std::endl;
  return 0;
}

// The child's end of --background: everything the parent relays has been printed.
void detachStandardStreams() {
  std::cout.flush();
  const int devnull = open("/dev/null", O_RDWR);
  if (devnull < 0) return;
  dup2(devnull, STDIN_FILENO);
  dup2(devnull, STDOUT_FILENO);
  close(devnull);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace canaryd::kubesim;
  CLI::App app{"kubesim: a local Kubernetes API server for canaryd's tests and demo"};
  std::string listen = "127.0.0.1:0";
  std::string dataDir;
  std::string readyDelayText = "1s";
  std::string bookmarkText = "1s";
  std::size_t history = 100000;
  bool runWorkloads = false;
  std::string workloadLogs;
  std::string workloadTargets;
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0 picks a free one)");
  bool allowRemote = false;
  app.add_flag("--allow-remote", allowRemote,
               "Listen on and answer for addresses other than loopback (no authentication!)");
  app.add_option("--data", dataDir, "Directory whose state.json keeps the objects across restarts");
  app.add_option("--ready-delay", readyDelayText,
                 "How long Deployments and DaemonSets take to become ready");
  std::int64_t nodes = 1;
  app.add_option("--nodes", nodes,
                 "How many simulated nodes DaemonSets schedule on (labelled kubernetes.io/os=linux "
                 "and kubernetes.io/hostname=kubesim-node-<i>)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000}));
  app.add_option("--bookmark-interval", bookmarkText, "How often watches get a BOOKMARK");
  app.add_option("--history", history, "How many events watches can resume from");
  app.add_flag("--run-workloads", runWorkloads,
               "Run one local process per ready replica of Deployments whose container has a "
               "command (port in $PORT), with HTTP readiness probes and Endpoints");
  app.add_option("--workload-logs", workloadLogs, "Directory for the processes' output");
  app.add_option("--workload-targets", workloadTargets,
                 "File to write the running processes to as Prometheus file_sd targets");
  std::string kubeconfigOut;
  app.add_option("--kubeconfig-out", kubeconfigOut,
                 "Write a kubeconfig for this server (context kubesim) to FILE, for kubectl and "
                 "canaryd run --kubeconfig");
  bool background = false;
  app.add_flag("--background", background,
               "Return once the server answers (after writing --kubeconfig-out), leaving it "
               "running; prints its PID");
  CLI11_PARSE(app, argc, argv);
  if (background) {
    if (const int status = forkIntoBackground(); status >= 0) return status;
  }

  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "kubesim: --listen must be HOST:PORT, got " << listen << "\n";
    return 2;
  }
  auto readyDelay = canaryd::parseDuration(readyDelayText);
  auto bookmark = canaryd::parseDuration(bookmarkText);
  if (!readyDelay || !bookmark) {
    std::cerr << "kubesim: " << (!readyDelay ? readyDelay.error() : bookmark.error()).message()
              << "\n";
    return 2;
  }
  ResourceRegistry registry;
  Store store(registry, history);
  const std::filesystem::path statePath =
      dataDir.empty() ? "" : std::filesystem::path(dataDir) / "state.json";
  if (!dataDir.empty()) {
    std::filesystem::create_directories(dataDir);
    if (std::filesystem::exists(statePath)) {
      std::ifstream in(statePath);
      nlohmann::json state = nlohmann::json::parse(in, nullptr, false);
      if (state.is_discarded()) {
        std::cerr << "kubesim: " << statePath << " is not valid JSON\n";
        return 1;
      }
      store.restore(state);
    }
  }
  ControllerSimulator controllers(
      store, std::chrono::duration_cast<std::chrono::milliseconds>(*readyDelay),
      runWorkloads ? std::function<bool(const nlohmann::json&)>(&WorkloadRunner::runs) : nullptr,
      nodes);
  std::unique_ptr<WorkloadRunner> workloads;
  if (runWorkloads) {
    workloads = std::make_unique<WorkloadRunner>(registry, store,
                                                 WorkloadOptions{workloadLogs, workloadTargets});
  }
  store.setObserver(
      [&](const ResourceType& type, const Event& e) { controllers.observe(type, e); });

  ServerOptions options;
  options.host = listen.substr(0, colon);
  options.allowRemote = allowRemote;
  const bool loopback = options.host == "127.0.0.1" || options.host == "localhost" ||
                        options.host == "::1" || options.host == "[::1]" ||
                        options.host.starts_with("127.");
  if (!loopback && !allowRemote) {
    std::cerr << "kubesim: --listen " << listen
              << " is not a loopback address; kubesim has no authentication, and with "
                 "--run-workloads anyone who reaches it runs commands as you. Add --allow-remote "
                 "to do it anyway.\n";
    return 2;
  }
  if (!loopback) {
    std::cerr << "kubesim: warning: listening on " << listen
              << " without authentication (--allow-remote)\n";
  }
  options.port = static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)));
  options.bookmarkInterval = std::chrono::duration_cast<std::chrono::milliseconds>(*bookmark);
  Server server(registry, store, options);
  std::uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    std::cerr << "kubesim: cannot listen on " << listen << ": " << e.what() << "\n";
    return 1;
  }
  std::cout << "listening on http://" << options.host << ":" << port << std::endl;
  if (!kubeconfigOut.empty()) {
    // No credentials: kubesim has no authentication. Written whole, then renamed, so a reader
    // never sees half a file.
    const std::string tmp = kubeconfigOut + ".tmp";
    {
      std::ofstream out(tmp);
      out << "apiVersion: v1\nkind: Config\n"
          << "clusters:\n- name: kubesim\n  cluster:\n    server: http://" << options.host << ":"
          << port << "\n"
          << "users:\n- name: kubesim\n  user: {}\n"
          << "contexts:\n- name: kubesim\n  context:\n    cluster: kubesim\n    user: kubesim\n"
          << "current-context: kubesim\n";
    }
    std::error_code ec;
    std::filesystem::rename(tmp, kubeconfigOut, ec);
    if (ec) {
      std::cerr << "kubesim: cannot write " << kubeconfigOut << ": " << ec.message() << "\n";
      return 1;
    }
    std::cout << "kubeconfig written to " << kubeconfigOut << std::endl;
  }
  if (background) detachStandardStreams();

  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  std::uint64_t saved = 0;
  auto save = [&] {
    if (statePath.empty() || store.resourceVersion() == saved) return;
    saved = store.resourceVersion();
    std::filesystem::path tmp = statePath;
    tmp += ".tmp";
    {
      std::ofstream out(tmp);
      out << store.snapshot().dump();
    }
    std::filesystem::rename(tmp, statePath);
  };
  while (!stopRequested) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    save();
  }
  server.stop();
  workloads.reset();  // stops every process it started
  save();
  return 0;
}
