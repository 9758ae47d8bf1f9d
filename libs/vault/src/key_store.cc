#include "psc/vault/key_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "psc/domain/strings.h"
#include "psc/vault/seal.h"

namespace psc::vault {
namespace {

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot sync", path);
  return absl::OkStatus();
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace

absl::StatusOr<KeyStore> KeyStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(StrCat("key store: cannot create ", dir, ": ", ec.message()));
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  if (!std::filesystem::is_directory(dir)) {
    return absl::InvalidArgumentError(StrCat("key store: ", dir, " is not a folder"));
  }
  return KeyStore(dir);
}

absl::StatusOr<std::string> KeyStore::PathOf(const std::string& key_id) const {
  if (key_id.size() != 32 ||
      key_id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return absl::InvalidArgumentError("key id: must be 32 lowercase hex digits");
  }
  return StrCat(dir_, "/", key_id, ".key");
}

absl::StatusOr<std::string> KeyStore::Create() {
  const std::string id = Hex(NewKey().substr(0, 16));
  const std::string key = NewKey();
  const std::string path = *PathOf(id);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("key store: cannot create", path);
  const bool written = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return Errno("key store: cannot write", path);
  if (auto s = SyncPath(dir_, O_RDONLY | O_DIRECTORY); !s.ok()) return s;
  return id;
}

absl::StatusOr<std::optional<std::string>> KeyStore::Get(const std::string& key_id) const {
  auto path = PathOf(key_id);
  if (!path.ok()) return path.status();
  std::ifstream in(*path, std::ios::binary);
  if (!in) return std::optional<std::string>();
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string key = bytes.str();
  if (key.size() != kKeyBytes) {
    return absl::DataLossError(StrCat("key store: ", *path, " is not a key"));
  }
  return std::optional<std::string>(std::move(key));
}

absl::Status KeyStore::Destroy(const std::string& key_id) {
  auto path = PathOf(key_id);
  if (!path.ok()) return path.status();
  int fd = ::open(path->c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Errno("key store: cannot open", *path);
  }
  const std::string zeros(kKeyBytes, '\0');
  const bool overwritten = ::write(fd, zeros.data(), zeros.size()) == static_cast<ssize_t>(zeros.size()) &&
                           ::fsync(fd) == 0;
  ::close(fd);
  if (!overwritten) return Errno("key store: cannot overwrite", *path);
  if (::unlink(path->c_str()) != 0 && errno != ENOENT) return Errno("key store: cannot remove", *path);
  return SyncPath(dir_, O_RDONLY | O_DIRECTORY);
}

}  // namespace psc::vault
