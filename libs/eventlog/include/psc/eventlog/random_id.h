// Random identifiers for events and logs: 32 lowercase hex characters from
// the operating system's random source. Thread-safe.
#pragma once

#include <string>

namespace psc::eventlog {

std::string RandomId();

}  // namespace psc::eventlog
