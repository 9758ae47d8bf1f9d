// SHA-256 digests, for the hashes of published reports.
#pragma once

#include <string>
#include <string_view>

namespace psc {

// SHA-256 of `bytes`, lower-case hex (64 characters).
std::string Sha256Hex(std::string_view bytes);

}  // namespace psc
