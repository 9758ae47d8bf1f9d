// Keys of sealed records, one file per key in a folder of their own, apart
// from the event log. Destroying a key makes its record's text unreadable
// everywhere the log goes (replicas, rebuilds, backups of the log), while
// the log itself is never rewritten. Several processes may share the
// folder (the gateway creates and destroys keys, projections read them).
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace psc::vault {

class KeyStore {
 public:
  // Opens (creating it, mode 0700) the folder `dir`.
  static absl::StatusOr<KeyStore> Open(const std::string& dir);

  // A new random key, durable (file and folder synced) before its id
  // (32 lowercase hex digits) is returned.
  absl::StatusOr<std::string> Create();
  // The key, or nullopt when it has been destroyed (or never existed).
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key_id) const;
  // Overwrites the key's file, syncs, removes it and syncs the folder.
  // Destroying a key that is gone is OK (a retried erasure).
  absl::Status Destroy(const std::string& key_id);

  const std::string& dir() const { return dir_; }

 private:
  explicit KeyStore(std::string dir) : dir_(std::move(dir)) {}
  // The key's file; INVALID_ARGUMENT for an id that is not 32 hex digits.
  absl::StatusOr<std::string> PathOf(const std::string& key_id) const;
  std::string dir_;
};

}  // namespace psc::vault
