// The PostgreSQL 15 baseline of the benchmark: what a careful engineer would
// build on PostgreSQL instead of our service, fed exactly the data the
// benchmark feeds our service, in the same run.
//
// The server (PgServer): a PostgreSQL server of its own, made with initdb in
// a temporary folder, listening on a unix socket in that folder and on a
// free loopback port; durable before it answers, like ours (fsync,
// synchronous_commit and full_page_writes on); shared_buffers 256MB, the
// size of our RocksDB memory budget. Stopped and its folder removed when
// the PgServer goes, error or not. Run as root, the server runs as the
// `postgres` account (else `nobody`): PostgreSQL refuses root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace psc::bench {

// ------------------------------------------------------------ the server

struct PgServerOptions {
  // Where initdb and postgres are; empty: /usr/lib/postgresql/15/bin if it
  // has them, else `pg_config --bindir`.
  std::string bin_dir;
  // The folder the server's temporary folder goes in; empty: $TMPDIR, else
  // /tmp. Run as root, the server's account must be able to enter it.
  std::string work_dir;
  std::string shared_buffers = "256MB";
};

// Memory of the server's processes (the postmaster and its children: one
// backend per connection, checkpointer, WAL writer, autovacuum, ...), read
// from /proc.
struct PgMemory {
  int processes = 0;
  // Sum of each process's peak resident set (VmHWM). Shared memory
  // (shared_buffers) is counted once in every process that touched it, so
  // this overstates the total.
  uint64_t peak_rss_bytes = 0;
  // Sum of each process's resident set now (VmRSS), same caveat.
  uint64_t rss_bytes = 0;
  // Sum of each process's proportional set size now (Pss): shared pages
  // divided among the processes sharing them, so counted once in all.
  uint64_t pss_bytes = 0;
};

class PgServer {
 public:
  // initdb in a new temporary folder, then the server, waiting until it
  // accepts connections. The server is told to quit (SIGQUIT) should this
  // thread end first: start it from a thread that outlives it.
  static absl::StatusOr<std::unique_ptr<PgServer>> Start(const PgServerOptions& options = {});
  // Stop(), errors ignored.
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Fast shutdown (SIGINT), escalating to SIGQUIT and SIGKILL if it does
  // not end within 60 s and 10 s; then removes the folder. Idempotent.
  absl::Status Stop();

  // libpq connection strings: over loopback TCP, and over the unix socket.
  std::string conninfo() const;
  std::string unix_conninfo() const;
  // The postmaster's process id.
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // The temporary folder (data directory, socket, logs).
  const std::string& dir() const { return dir_; }
  const std::string& bin_dir() const { return bin_dir_; }
  // The server's processes' memory now (0 processes once stopped).
  PgMemory Memory() const;

 private:
  PgServer() = default;
  std::string dir_;
  std::string bin_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace psc::bench
