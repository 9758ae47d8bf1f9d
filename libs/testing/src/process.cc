#include "psc/testing/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "absl/status/status.h"

extern char** environ;

namespace psc::testing {
namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

}  // namespace

// The build records where its binaries and sources are; the environment
// may point elsewhere (an installed tree, say).
std::string BinPath(const std::string& name) {
  return EnvOr("PSC_BIN_DIR", PSC_BUILD_BIN_DIR) + "/" + name;
}

std::string SourcePath(const std::string& relative) {
  return EnvOr("PSC_SOURCE_DIR", PSC_BUILD_SOURCE_DIR) + "/" + relative;
}

TempDir::TempDir() {
  std::string pattern = EnvOr("TMPDIR", "/tmp") + "/psc-test-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    std::cerr << "mkdtemp failed: " << std::strerror(errno) << "\n";
    std::abort();
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(std::vector<std::string> argv,
                                                                  Options options) {
  if (argv.empty()) return absl::InvalidArgumentError("no program");
  int out[2];
  int in[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (options.pipe_stdin && pipe2(in, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  if (options.capture_stderr) posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
  if (options.pipe_stdin) posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string key = entry.substr(0, entry.find('='));
    if (options.env.count(key) == 0) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  std::unique_ptr<ChildProcess> child(new ChildProcess());
  int rc = 0;
  if (!options.stop_with_parent) {
    rc = posix_spawn(&child->pid_, args[0], &actions, nullptr, args.data(), envp.data());
  } else if (access(args[0], X_OK) != 0) {
    rc = errno;
  } else {
    const pid_t parent = getpid();
    child->pid_ = fork();
    if (child->pid_ == 0) {
      // Only async-signal-safe calls from here to exec.
      if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(127);
      if (dup2(out[1], STDOUT_FILENO) < 0) _exit(127);
      if (options.capture_stderr && dup2(out[1], STDERR_FILENO) < 0) _exit(127);
      if (options.pipe_stdin && dup2(in[0], STDIN_FILENO) < 0) _exit(127);
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    if (child->pid_ < 0) rc = errno;
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (options.pipe_stdin) close(in[0]);
  if (rc != 0) {
    child->pid_ = -1;
    child->reaped_ = true;
    close(out[0]);
    if (options.pipe_stdin) close(in[1]);
    return absl::InternalError("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  child->name_ = std::filesystem::path(argv[0]).filename().string();
  child->stdin_fd_ = options.pipe_stdin ? in[1] : -1;
  int fd = out[0];
  child->reader_ = std::thread([c = child.get(), fd] { c->ReadLoop(fd); });
  return child;
}

void ChildProcess::ReadLoop(int fd) {
  char buf[4096];
  std::string line;
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    {
      std::lock_guard lock(mu_);
      output_.append(buf, static_cast<size_t>(n));
    }
    changed_.notify_all();
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        std::cerr << "[" << name_ << "] " << line << "\n";
        line.clear();
      } else {
        line += buf[i];
      }
    }
  }
  close(fd);
  {
    std::lock_guard lock(mu_);
    eof_ = true;
  }
  changed_.notify_all();
}

ChildProcess::~ChildProcess() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  // pid_ stays -1 when the spawn failed: never signal it (kill(-1) would
  // reach every process the user may signal).
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGTERM);
    if (!Wait(std::chrono::seconds(10)).ok() && !reaped_) {
      kill(pid_, SIGKILL);
      (void)Wait(std::chrono::seconds(10));
    }
  }
  if (reader_.joinable()) reader_.join();
}

absl::StatusOr<std::string> ChildProcess::WaitForLine(const std::string& needle,
                                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t hit = output_.find(needle);
    if (hit != std::string::npos) {
      size_t start = output_.rfind('\n', hit);
      start = start == std::string::npos ? 0 : start + 1;
      size_t end = output_.find('\n', hit);
      if (end != std::string::npos) return output_.substr(start, end - start);
    }
    if (eof_) return absl::FailedPreconditionError(name_ + " exited before printing '" + needle + "'");
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return absl::DeadlineExceededError(name_ + " did not print '" + needle + "' in time");
    }
  }
}

absl::StatusOr<std::string> ChildProcess::WaitForValue(const std::string& needle,
                                                       std::chrono::milliseconds timeout) {
  auto line = WaitForLine(needle, timeout);
  if (!line.ok()) return line.status();
  std::string rest = line->substr(line->find(needle) + needle.size());
  return rest.substr(0, rest.find(' '));
}

std::string ChildProcess::Output() const {
  std::lock_guard lock(mu_);
  return output_;
}

absl::Status ChildProcess::WriteStdin(const std::string& text) {
  if (stdin_fd_ < 0) return absl::FailedPreconditionError("stdin not piped");
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(stdin_fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::InternalError("write to stdin failed");
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

void ChildProcess::Signal(int sig) {
  if (!reaped_ && pid_ > 0) kill(pid_, sig);
}

absl::StatusOr<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (r < 0 && errno != EINTR) return absl::InternalError("waitpid failed");
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(name_ + " still running");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The child has exited, but its last output may still be in the pipe:
  // answer once the reader has read it to the end, so that Output() after
  // Wait() holds everything the child printed.
  std::unique_lock lock(mu_);
  if (!changed_.wait_until(lock, deadline, [&] { return eof_; })) {
    return absl::DeadlineExceededError(
        name_ + " has exited, but a process it started still holds its output open");
  }
  return exit_code_;
}

}  // namespace psc::testing
