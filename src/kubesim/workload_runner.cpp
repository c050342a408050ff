#include "kubesim/workload_runner.h"

#include <cstring>
#include <fstream>
#include <functional>
#include <random>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "canaryd/core/clock.h"
#include "canaryd/core/free_port.h"

#include "kubesim/api_error.h"
#include "kubesim/controller_simulator.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

const json& firstContainer(const json& deployment) {
  static const json kNone = json::object();
  const json::json_pointer path("/spec/template/spec/containers");
  if (!deployment.contains(path)) return kNone;
  const json& list = deployment.at(path);
  return list.is_array() && !list.empty() ? list[0] : kNone;
}

std::string hashOf(const json& podTemplate) {
  const std::size_t h = std::hash<std::string>{}(podTemplate.dump());
  static const char* kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  std::size_t v = h;
  for (int i = 0; i < 10; ++i) {
    out += kAlphabet[v % 27];
    v /= 27;
  }
  return out;
}

std::string randomSuffix() {
  static std::mt19937_64 random{std::random_device{}()};
  static const char* kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < 5; ++i)
    out += kAlphabet[random() % 27];
  return out;
}

// GET path on 127.0.0.1:port within 300 ms; ready on 2xx or 3xx.
bool probe(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ready = false;
  connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, 300) == 1 && (p.revents & POLLOUT) != 0) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    const std::string request =
        "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: kubesim-probe\r\n\r\n";
    if (error == 0 && send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                          static_cast<ssize_t>(request.size())) {
      std::string answer;
      char buffer[256];
      p = {fd, POLLIN, 0};
      while (answer.size() < 12 && poll(&p, 1, 300) == 1) {
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        answer.append(buffer, static_cast<std::size_t>(n));
      }
      // "HTTP/1.x 2xx" or 3xx
      ready = answer.size() >= 10 && answer.starts_with("HTTP/1.") &&
              (answer[9] == '2' || answer[9] == '3');
    }
  }
  close(fd);
  return ready;
}

}  // namespace

bool WorkloadRunner::runs(const json& deployment) {
  const json& c = firstContainer(deployment);
  return c.contains("command") && c["command"].is_array() && !c["command"].empty();
}

WorkloadRunner::WorkloadRunner(ResourceRegistry& registry, Store& store, WorkloadOptions options)
    : registry_(registry), store_(store), options_(std::move(options)) {
  if (!options_.logDir.empty()) std::filesystem::create_directories(options_.logDir);
  thread_ = std::thread([this] { run(); });
}

WorkloadRunner::~WorkloadRunner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  for (auto& [key, workload] : workloads_) {
    for (Pod& pod : workload.pods)
      stop(pod);
  }
  workloads_.clear();
  writeTargets(workloads_);
}

void WorkloadRunner::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    try {
      syncOnce();
    } catch (const ApiError&) {
      // An object changed or went away meanwhile: the next pass sees the new state.
    }
    lock.lock();
    cv_.wait_for(lock, options_.period, [this] { return stopping_; });
  }
}

void WorkloadRunner::syncOnce() {
  const ResourceType deployments = *registry_.find("apps", "v1", "deployments");
  const json list = store_.list(deployments, "", {});
  std::map<std::string, bool> seen;
  for (const json& d : list.value("items", json::array())) {
    if (!runs(d)) continue;
    const std::string key =
        d["metadata"].value("namespace", "") + "/" + d["metadata"].value("name", "");
    seen[key] = true;
    Workload& workload = workloads_[key];
    syncDeployment(d, workload);
  }
  for (auto it = workloads_.begin(); it != workloads_.end();) {
    if (seen.contains(it->first)) {
      ++it;
      continue;
    }
    for (Pod& pod : it->second.pods)
      stop(pod);
    it = workloads_.erase(it);
  }
  writeEndpoints(workloads_);
  writeTargets(workloads_);
}

void WorkloadRunner::syncDeployment(const json& deployment, Workload& workload) {
  const json& spec = deployment["spec"];
  const std::int64_t replicas = spec.value("replicas", std::int64_t{1});
  const std::string templateHash = hashOf(spec.value("template", json::object()));
  workload.labels = spec.value("template", json::object())
                        .value("metadata", json::object())
                        .value("labels", json::object());
  // Old template or exited: stop. Then start up to `replicas`, then trim extras.
  std::vector<Pod> kept;
  for (Pod& pod : workload.pods) {
    int status = 0;
    const bool exited = pod.pid > 0 && waitpid(pod.pid, &status, WNOHANG) == pod.pid;
    if (exited) pod.pid = -1;
    if (pod.templateHash != templateHash || exited) {
      stop(pod);
      continue;
    }
    kept.push_back(pod);
  }
  while (static_cast<std::int64_t>(kept.size()) > replicas) {
    stop(kept.back());
    kept.pop_back();
  }
  while (static_cast<std::int64_t>(kept.size()) < replicas) {
    kept.push_back(start(deployment, templateHash));
  }
  const json& container = firstContainer(deployment);
  const std::string path = container.value("readinessProbe", json::object())
                               .value("httpGet", json::object())
                               .value("path", "/");
  for (Pod& pod : kept)
    pod.ready = pod.pid > 0 && probe(pod.port, path);
  workload.pods = std::move(kept);
  writeStatus(deployment, workload);
}

WorkloadRunner::Pod WorkloadRunner::start(const json& deployment, const std::string& templateHash) {
  Pod pod;
  const std::string ns = deployment["metadata"].value("namespace", "default");
  pod.name = deployment["metadata"].value("name", "") + "-" + templateHash.substr(0, 9) + "-" +
             randomSuffix();
  pod.templateHash = templateHash;
  pod.port = freeLoopbackPort();  // the process binds it right after
  const json& container = firstContainer(deployment);
  std::vector<std::string> argv;
  for (const json& part : container["command"])
    argv.push_back(part.get<std::string>());
  for (const json& part : container.value("args", json::array()))
    argv.push_back(part.get<std::string>());
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    env.emplace_back(*e);
  for (const json& e : container.value("env", json::array())) {
    if (e.contains("value")) env.push_back(e.value("name", "") + "=" + e.value("value", ""));
  }
  env.push_back("PORT=" + std::to_string(pod.port));
  env.push_back("POD_NAME=" + pod.name);
  env.push_back("POD_NAMESPACE=" + ns);
  const std::filesystem::path log =
      options_.logDir.empty() ? "/dev/null" : options_.logDir / (pod.name + ".log");
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive kubesim, even when it is SIGKILLed
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    std::vector<char*> args;
    for (std::string& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& e : env)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    execvpe(args[0], args.data(), envp.data());
    std::fprintf(stderr, "kubesim: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  pod.pid = pid;
  return pod;
}

void WorkloadRunner::stop(Pod& pod) {
  if (pod.pid <= 0) return;
  kill(-pod.pid, SIGTERM);
  for (int i = 0; i < 40; ++i) {
    if (waitpid(pod.pid, nullptr, WNOHANG) == pod.pid) {
      pod.pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(-pod.pid, SIGKILL);
  waitpid(pod.pid, nullptr, 0);
  pod.pid = -1;
}

void WorkloadRunner::writeStatus(const json& deployment, const Workload& workload) {
  const ResourceType deployments = *registry_.find("apps", "v1", "deployments");
  const std::string ns = deployment["metadata"].value("namespace", "");
  const std::string name = deployment["metadata"].value("name", "");
  const std::int64_t generation = deployment["metadata"].value("generation", std::int64_t{1});
  const std::int64_t replicas = deployment["spec"].value("replicas", std::int64_t{1});
  std::int64_t ready = 0;
  for (const Pod& pod : workload.pods)
    ready += pod.ready ? 1 : 0;
  const auto current = static_cast<std::int64_t>(workload.pods.size());
  const json& old = deployment.value("status", json::object());
  if (old.value("observedGeneration", std::int64_t{0}) == generation &&
      old.value("readyReplicas", std::int64_t{-1}) == ready &&
      old.value("replicas", std::int64_t{-1}) == current) {
    return;  // nothing changed: no write, no watch event
  }
  const json status = deploymentStatusFor(name, generation, replicas, current, ready);
  store_.patch(
      deployments, ns, name,
      [&](const json& now) {
        json next = now;
        if (now["metadata"].value("generation", std::int64_t{1}) == generation) {
          next["status"] = status;
        }
        return next;
      },
      /*status=*/true);
}

void WorkloadRunner::writeEndpoints(const std::map<std::string, Workload>& workloads) {
  const ResourceType services = *registry_.find("", "v1", "services");
  const ResourceType endpoints = *registry_.find("", "v1", "endpoints");
  const json list = store_.list(services, "", {});
  for (const json& service : list.value("items", json::array())) {
    const std::string ns = service["metadata"].value("namespace", "");
    const std::string name = service["metadata"].value("name", "");
    const json selector = service.value("spec", json::object()).value("selector", json::object());
    if (selector.empty()) continue;
    json subsets = json::array();
    bool selectsRunWorkload = false;
    for (const auto& [key, workload] : workloads) {
      if (key.substr(0, key.find('/')) != ns) continue;
      bool matches = true;
      for (const auto& [label, value] : selector.items()) {
        if (workload.labels.value(label, json()) != value) matches = false;
      }
      if (!matches) continue;
      selectsRunWorkload = true;
      for (const Pod& pod : workload.pods) {
        if (!pod.ready) continue;
        subsets.push_back(
            {{"addresses",
              {{{"ip", "127.0.0.1"},
                {"targetRef", {{"kind", "Pod"}, {"name", pod.name}, {"namespace", ns}}}}}},
             {"ports", {{{"port", pod.port}, {"protocol", "TCP"}}}}});
      }
    }
    if (!selectsRunWorkload) continue;
    json wanted = {{"apiVersion", "v1"},
                   {"kind", "Endpoints"},
                   {"metadata", {{"name", name}, {"namespace", ns}}},
                   {"subsets", subsets}};
    try {
      const json existing = store_.get(endpoints, ns, name);
      if (existing.value("subsets", json::array()) == subsets) continue;
      store_.patch(
          endpoints, ns, name,
          [&](const json& now) {
            json next = now;
            next["subsets"] = subsets;
            return next;
          },
          /*status=*/false);
    } catch (const ApiError& e) {
      if (e.code != 404) throw;
      store_.create(endpoints, ns, wanted);
    }
  }
}

void WorkloadRunner::writeTargets(const std::map<std::string, Workload>& workloads) {
  if (options_.targetsFile.empty()) return;
  json targets = json::array();
  for (const auto& [key, workload] : workloads) {
    for (const Pod& pod : workload.pods) {
      if (pod.pid <= 0) continue;
      targets.push_back({{"targets", {"127.0.0.1:" + std::to_string(pod.port)}},
                         {"labels",
                          {{"kubernetes_namespace", key.substr(0, key.find('/'))},
                           {"kubernetes_pod_name", pod.name},
                           {"app", workload.labels.value("app", "")}}}});
    }
  }
  const std::string text = targets.dump(2);
  if (text == lastTargets_) return;
  lastTargets_ = text;
  std::filesystem::path tmp = options_.targetsFile;
  tmp += ".tmp";
  {
    std::ofstream out(tmp);
    out << text << "\n";
  }
  std::filesystem::rename(tmp, options_.targetsFile);  // Prometheus never reads half a file
}

}  // namespace canaryd::kubesim
