// Sends a list of requests to the gateway with several concurrent clients.
// Requests are taken in list order, so at most `clients` are in flight and a
// request can only overtake those: a correction or a repeat listed far
// enough after its original always lands after it.
#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "client.h"
#include "psc/demo/demo.h"

namespace psc::cli {

struct LoadStats {
  size_t requests = 0;
  size_t rows = 0;        // rows sent, repeats included
  size_t duplicates = 0;  // answered with an earlier receipt
  double seconds = 0;
  uint64_t last_position = 0;  // highest position in any receipt
};

absl::StatusOr<LoadStats> LoadRequests(Client& client, const std::vector<demo::DemoRequest>& requests,
                                       int clients,
                                       const std::function<void(const LoadStats&)>& progress);

// The same with one client per entry of `clients` (each its own connection
// when made so).
absl::StatusOr<LoadStats> LoadRequests(const std::vector<Client*>& clients,
                                       const std::vector<demo::DemoRequest>& requests,
                                       const std::function<void(const LoadStats&)>& progress);

// The same with the requests made as they are sent: `make(i)` for i in
// [0, count), so that a large load need not be held as messages.
absl::StatusOr<LoadStats> LoadRequests(const std::vector<Client*>& clients, size_t count,
                                       const std::function<demo::DemoRequest(size_t)>& make,
                                       const std::function<void(const LoadStats&)>& progress);

}  // namespace psc::cli
