// AES-256-GCM sealing of a record's free text under its own key.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace psc::vault {

inline constexpr size_t kKeyBytes = 32;

// A fresh random key (kKeyBytes).
std::string NewKey();

// `plaintext` sealed under `key`, bound to `associated` (say, the record's
// id, so a sealed text cannot be moved to another record): a random 12-byte
// nonce, the ciphertext, and the 16-byte tag.
absl::StatusOr<std::string> Seal(std::string_view key, std::string_view plaintext,
                                 std::string_view associated);

// The plaintext, or DATA_LOSS when the key, the associated data or any byte
// of `sealed` is not what sealed it.
absl::StatusOr<std::string> Unseal(std::string_view key, std::string_view sealed,
                                   std::string_view associated);

}  // namespace psc::vault
