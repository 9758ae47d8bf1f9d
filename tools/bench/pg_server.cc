// PgServer: a PostgreSQL server of its own in a temporary folder.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pg_baseline.h"
#include "psc/domain/strings.h"

namespace psc::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The account the server runs as: PostgreSQL refuses to run as root.
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

absl::StatusOr<RunAs> ServerAccount() {
  RunAs run_as;
  if (geteuid() != 0) return run_as;
  for (const char* name : {"postgres", "nobody"}) {
    if (const passwd* pw = getpwnam(name); pw != nullptr) {
      run_as.switch_user = true;
      run_as.uid = pw->pw_uid;
      run_as.gid = pw->pw_gid;
      run_as.name = name;
      return run_as;
    }
  }
  return absl::FailedPreconditionError(
      "running as root, and neither a postgres nor a nobody account exists to run PostgreSQL as");
}

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

absl::StatusOr<std::string> FindBinDir(const std::string& wanted) {
  auto has_programs = [](const std::string& dir) {
    return IsExecutable(dir + "/initdb") && IsExecutable(dir + "/postgres");
  };
  if (!wanted.empty()) {
    if (has_programs(wanted)) return wanted;
    return absl::NotFoundError(StrCat("no initdb and postgres in ", wanted));
  }
  const std::string debian = "/usr/lib/postgresql/15/bin";
  if (has_programs(debian)) return debian;
  if (FILE* p = popen("pg_config --bindir 2>/dev/null", "r"); p != nullptr) {
    char buf[4096];
    std::string out;
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
    out = Trim(out);
    if (!out.empty() && has_programs(out)) return out;
  }
  return absl::NotFoundError(
      "PostgreSQL server programs not found (initdb, postgres): not in "
      "/usr/lib/postgresql/15/bin nor in `pg_config --bindir`; install the postgresql package");
}

// A loopback TCP port nobody listens on now (the server binds it shortly
// after; a start that loses the race is retried on another port).
absl::StatusOr<int> FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    close(fd);
    return absl::InternalError(StrCat("bind 127.0.0.1:0: ", std::strerror(err)));
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

// The last lines of a log file, for error messages.
std::string Tail(const std::string& path, size_t max_bytes = 2000) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return Trim(text);
}

// Starts `argv` with stdout and stderr appended to `log_path`, stdin from
// /dev/null, as `run_as`; with `parent_death_signal`, the child gets it
// when this thread ends.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path,
                            const RunAs& run_as, int parent_death_signal) {
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(StrCat("open ", log_path, ": ", std::strerror(errno)));
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    close(log_fd);
    return absl::InternalError(StrCat("open /dev/null: ", std::strerror(errno)));
  }
  if (run_as.switch_user && fchown(log_fd, run_as.uid, run_as.gid) != 0) {
    int err = errno;
    close(log_fd);
    close(null_fd);
    return absl::InternalError(StrCat("chown ", log_path, ": ", std::strerror(err)));
  }
  // Everything the child needs, made before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(log_fd);
    close(null_fd);
    return absl::InternalError(StrCat("fork: ", std::strerror(err)));
  }
  if (pid == 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    setsid();  // a terminal's Ctrl-C goes to us; we stop the server ourselves
    if (run_as.switch_user) {
      if (setgroups(0, nullptr) != 0 || setgid(run_as.gid) != 0 || setuid(run_as.uid) != 0) {
        _exit(126);
      }
    }
    // After the change of user, which clears it.
    if (parent_death_signal != 0) {
      prctl(PR_SET_PDEATHSIG, parent_death_signal);
      if (getppid() != parent) _exit(125);
    }
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  return pid;
}

// Waits up to `timeout` for `pid` to exit; its exit status, or nullopt.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -1;  // not our child any more
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ExitText(int status) {
  if (WIFEXITED(status)) return StrCat("exit code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return StrCat("signal ", WTERMSIG(status));
  return "unknown status";
}

absl::Status ChownTree(const std::string& dir, const RunAs& run_as) {
  if (!run_as.switch_user) return absl::OkStatus();
  if (chown(dir.c_str(), run_as.uid, run_as.gid) != 0) {
    return absl::InternalError(StrCat("chown ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// "Key:   1234 kB" -> bytes, from a /proc status-like file.
uint64_t ProcKb(const std::string& path, std::string_view key) {
  std::ifstream in(path);
  std::string line;
  uint64_t total = 0;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0 || line.size() <= key.size() ||
        line[key.size()] != ':') {
      continue;
    }
    total += std::strtoull(line.c_str() + key.size() + 1, nullptr, 10) * 1024;
  }
  return total;
}

// The parent process id of `pid` (from /proc/PID/stat), or -1.
pid_t ParentOf(pid_t pid) {
  std::ifstream in(StrCat("/proc/", pid, "/stat"));
  std::string stat;
  std::getline(in, stat);
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close_paren + 1));
  std::string state;
  pid_t ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgServer>> PgServer::Start(const PgServerOptions& options) {
  auto bin_dir = FindBinDir(options.bin_dir);
  if (!bin_dir.ok()) return bin_dir.status();
  auto run_as = ServerAccount();
  if (!run_as.ok()) return run_as.status();

  std::string parent = options.work_dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = StrCat(parent, "/psc-pg-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return absl::InternalError(StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  std::unique_ptr<PgServer> server(new PgServer());
  server->dir_ = buf.data();  // from here on, the destructor removes it
  server->bin_dir_ = *bin_dir;
  if (absl::Status s = ChownTree(server->dir_, *run_as); !s.ok()) return s;

  const std::string data = server->dir_ + "/data";
  const std::string initdb_log = server->dir_ + "/initdb.log";
  auto initdb = Spawn({server->bin_dir_ + "/initdb", "-D", data, "-U", "psc", "--auth=trust",
                       "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                      initdb_log, *run_as, /*parent_death_signal=*/SIGKILL);
  if (!initdb.ok()) return initdb.status();
  std::optional<int> initdb_status = WaitExit(*initdb, std::chrono::minutes(2));
  if (!initdb_status) {
    kill(*initdb, SIGKILL);
    WaitExit(*initdb, std::chrono::seconds(10));
    return absl::DeadlineExceededError("initdb took more than 2 minutes");
  }
  if (!WIFEXITED(*initdb_status) || WEXITSTATUS(*initdb_status) != 0) {
    return absl::InternalError(
        StrCat("initdb failed (", ExitText(*initdb_status), "): ", Tail(initdb_log)));
  }

  // A few tries: another process may take the free port first.
  const std::string log = server->dir_ + "/server.log";
  absl::Status last_error = absl::UnknownError("server not started");
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = FreeLoopbackPort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    auto pid = Spawn({server->bin_dir_ + "/postgres", "-D", data,
                      // Reachable over loopback TCP and the folder's unix socket only.
                      "-c", "listen_addresses=127.0.0.1", "-c", StrCat("port=", *port), "-c",
                      StrCat("unix_socket_directories=", server->dir_),
                      // Durable before it answers, like our journal.
                      "-c", "fsync=on", "-c", "synchronous_commit=on", "-c",
                      "full_page_writes=on",
                      // Memory comparable to our RocksDB budget.
                      "-c", StrCat("shared_buffers=", options.shared_buffers),
                      // Everything else at PostgreSQL's defaults.
                      "-c", "log_min_messages=warning", "-c", "log_checkpoints=off"},
                     log, *run_as, /*parent_death_signal=*/SIGQUIT);
    if (!pid.ok()) return pid.status();
    server->pid_ = *pid;

    const std::string conninfo = server->conninfo();
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    bool ready = false;
    bool exited = false;
    while (Clock::now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) {
        ready = true;
        break;
      }
      int status = 0;
      if (waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
        exited = true;
        last_error = absl::InternalError(
            StrCat("postgres exited at start-up (", ExitText(status), "): ", Tail(log)));
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (ready) return server;
    if (!exited) {
      last_error = absl::DeadlineExceededError(
          StrCat("postgres did not accept connections within 60 s: ", Tail(log)));
      kill(server->pid_, SIGQUIT);
      if (!WaitExit(server->pid_, std::chrono::seconds(10))) {
        kill(server->pid_, SIGKILL);
        WaitExit(server->pid_, std::chrono::seconds(10));
      }
    }
    server->pid_ = -1;
    if (Tail(log).find("could not bind") == std::string::npos) break;
  }
  return last_error;
}

PgServer::~PgServer() { Stop().IgnoreError(); }

absl::Status PgServer::Stop() {
  absl::Status result = absl::OkStatus();
  if (pid_ > 0) {
    kill(pid_, SIGINT);  // fast shutdown: roll back sessions, checkpoint, exit
    std::optional<int> status = WaitExit(pid_, std::chrono::seconds(60));
    if (!status) {
      result = absl::DeadlineExceededError("postgres did not stop within 60 s of SIGINT");
      kill(pid_, SIGQUIT);  // immediate shutdown
      status = WaitExit(pid_, std::chrono::seconds(10));
    }
    if (!status) {
      kill(pid_, SIGKILL);
      WaitExit(pid_, std::chrono::seconds(10));
    } else if (result.ok() && *status != -1 &&
               (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)) {
      result = absl::InternalError(StrCat("postgres stopped with ", ExitText(*status)));
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    if (ec && result.ok()) {
      result = absl::InternalError(StrCat("remove ", dir_, ": ", ec.message()));
    }
    dir_.clear();
  }
  return result;
}

std::string PgServer::conninfo() const {
  return StrCat("host=127.0.0.1 port=", port_, " dbname=postgres user=psc connect_timeout=10");
}

std::string PgServer::unix_conninfo() const {
  return StrCat("host=", dir_, " port=", port_, " dbname=postgres user=psc connect_timeout=10");
}

PgMemory PgServer::Memory() const {
  PgMemory memory;
  if (pid_ <= 0) return memory;
  std::vector<pid_t> pids = {pid_};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10));
    if (pid != pid_ && ParentOf(pid) == pid_) pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    const std::string status = StrCat("/proc/", pid, "/status");
    const uint64_t hwm = ProcKb(status, "VmHWM");
    if (hwm == 0) continue;  // gone meanwhile
    ++memory.processes;
    memory.peak_rss_bytes += hwm;
    memory.rss_bytes += ProcKb(status, "VmRSS");
    memory.pss_bytes += ProcKb(StrCat("/proc/", pid, "/smaps_rollup"), "Pss");
  }
  return memory;
}

}  // namespace psc::bench
