#include "demo_load.h"

#include <atomic>
#include <mutex>
#include <thread>

namespace psc::cli {

absl::StatusOr<LoadStats> LoadRequests(Client& client, const std::vector<demo::DemoRequest>& requests,
                                       int clients,
                                       const std::function<void(const LoadStats&)>& progress) {
  return LoadRequests(std::vector<Client*>(static_cast<size_t>(std::max(1, clients)), &client),
                      requests, progress);
}

absl::StatusOr<LoadStats> LoadRequests(const std::vector<Client*>& clients,
                                       const std::vector<demo::DemoRequest>& requests,
                                       const std::function<void(const LoadStats&)>& progress) {
  return LoadRequests(
      clients, requests.size(), [&](size_t i) { return requests[i]; }, progress);
}

absl::StatusOr<LoadStats> LoadRequests(const std::vector<Client*>& clients, size_t count,
                                       const std::function<demo::DemoRequest(size_t)>& make,
                                       const std::function<void(const LoadStats&)>& progress) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  LoadStats stats;
  absl::Status failure;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto worker = [&](Client& client) {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= count) return;
      {
        std::lock_guard lock(mu);
        if (!failure.ok()) return;
      }
      demo::DemoRequest r = make(i);
      v1::SubmitObservationsRequest submit;
      v1::ShareLearningRequest share;
      if (r.observations) {
        submit.set_submission_id(r.observations->submission_id());
        submit.mutable_rows()->Swap(r.observations->mutable_rows());
      } else {
        *share.mutable_learning() = std::move(*r.learning);
      }
      const size_t rows = static_cast<size_t>(submit.rows_size());
      v1::Receipt receipt;
      grpc::Status status;
      // Retry transient failures with the same request id: the service
      // answers the original receipt if the first attempt did land.
      for (int attempt = 0; attempt < 5; ++attempt) {
        auto context = Context(60);
        status = r.observations ? client.ingest->SubmitObservations(context.get(), submit, &receipt)
                                : client.ingest->ShareLearning(context.get(), share, &receipt);
        if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
      }
      std::lock_guard lock(mu);
      if (!status.ok()) {
        failure = absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                               Describe(status));
        return;
      }
      ++stats.requests;
      stats.rows += rows;
      if (receipt.duplicate()) ++stats.duplicates;
      stats.last_position = std::max<uint64_t>(stats.last_position, receipt.position());
    }
  };
  std::vector<std::thread> threads;
  for (Client* c : clients) threads.emplace_back(worker, std::ref(*c));
  std::atomic<bool> done{false};
  std::thread reporter([&] {
    while (!done) {
      for (int i = 0; i < 10 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (done) break;
      std::lock_guard lock(mu);
      stats.seconds = elapsed();
      if (progress) progress(stats);
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reporter.join();
  if (!failure.ok()) return failure;
  stats.seconds = elapsed();
  if (progress) progress(stats);
  return stats;
}

}  // namespace psc::cli
