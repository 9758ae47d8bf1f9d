// Child processes and temporary folders for tests that start real programs.
// A ChildProcess is ended (SIGTERM, then SIGKILL after 10 s) and reaped when
// destroyed; a TempDir is removed with everything in it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace psc::testing {

// Absolute path of a program built by this project (PSC_BIN_DIR).
std::string BinPath(const std::string& name);
// Absolute path of a file in the source tree (PSC_SOURCE_DIR).
std::string SourcePath(const std::string& relative);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class ChildProcess {
 public:
  struct Options {
    // Extra environment variables (added to the test's own).
    std::map<std::string, std::string> env;
    // Keep a pipe to the child's stdin (see WriteStdin).
    bool pipe_stdin = false;
    // The child gets SIGTERM when the thread that started it ends, the
    // whole process included however it ends (PR_SET_PDEATHSIG): a tool
    // killed hard leaves no server behind. Start such children from a
    // thread that lives as long as they should.
    bool stop_with_parent = false;
    // stderr goes to the same pipe as stdout (captured, in Output()).
    bool capture_stderr = false;
  };

  // Starts argv[0] (a path) with its arguments. stdout is captured (and
  // echoed to the test's stderr, prefixed with the program name); stderr is
  // inherited.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(std::vector<std::string> argv,
                                                             Options options);
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(std::vector<std::string> argv) {
    return Start(std::move(argv), Options{});
  }
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Waits for a stdout line containing `needle`; returns the whole line.
  // Fails when the process exits first or the time is up.
  absl::StatusOr<std::string> WaitForLine(const std::string& needle,
                                          std::chrono::milliseconds timeout);
  // The text after `needle` on the first line containing it, up to the next
  // space: `WaitForValue("listening on ")` -> "127.0.0.1:40123".
  absl::StatusOr<std::string> WaitForValue(const std::string& needle,
                                           std::chrono::milliseconds timeout);
  // Everything the child printed on stdout so far (all of it once Wait has
  // returned its exit code).
  std::string Output() const;
  absl::Status WriteStdin(const std::string& text);
  // Sends a signal to this child.
  void Signal(int sig);
  // Waits for the child to exit and for its output to be read to the end
  // (Output() then holds all of it); returns its exit code, or 128 +
  // signal. DEADLINE_EXCEEDED when either takes longer than `timeout`.
  absl::StatusOr<int> Wait(std::chrono::milliseconds timeout);

 private:
  ChildProcess() = default;
  void ReadLoop(int fd);

  pid_t pid_ = -1;
  std::string name_;
  int stdin_fd_ = -1;
  bool reaped_ = false;
  int exit_code_ = 0;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::string output_;
  bool eof_ = false;
  std::thread reader_;
};

}  // namespace psc::testing
