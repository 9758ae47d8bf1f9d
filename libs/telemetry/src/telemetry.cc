#include "psc/telemetry/telemetry.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <utility>

#include "psc/domain/strings.h"

namespace psc::telemetry {

// Latency and outcome of every RPC, by service, method and status code.
class GrpcProbe {
 public:
  explicit GrpcProbe(prometheus::Registry& registry)
      : requests_(prometheus::BuildCounter()
                      .Name("psc_grpc_requests_total")
                      .Help("gRPC requests answered, by service, method and status code")
                      .Register(registry)),
        latency_(prometheus::BuildHistogram()
                     .Name("psc_grpc_request_duration_seconds")
                     .Help("Time from the request's arrival to its status, by service and method")
                     .Register(registry)) {}

  void Finished(const std::string& full_method, grpc::StatusCode code, double seconds) {
    // "/psc.v1.IngestService/SubmitObservations" -> service, method.
    std::string service = full_method;
    std::string method;
    if (auto slash = full_method.rfind('/'); slash != std::string::npos && slash > 0) {
      service = full_method.substr(1, slash - 1);
      method = full_method.substr(slash + 1);
    }
    std::lock_guard lock(mu_);
    requests_.Add({{"service", service}, {"method", method}, {"code", CodeName(code)}}).Increment();
    auto key = std::make_pair(service, method);
    auto it = histograms_.find(key);
    if (it == histograms_.end()) {
      it = histograms_
               .emplace(key, &latency_.Add({{"service", service}, {"method", method}},
                                           prometheus::Histogram::BucketBoundaries{
                                               0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1, 0.25, 0.5, 1, 2.5, 5, 10}))
               .first;
    }
    it->second->Observe(seconds);
  }

  static const char* CodeName(grpc::StatusCode code) {
    static constexpr const char* kNames[] = {
        "OK",        "CANCELLED",        "UNKNOWN",           "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",  "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    const int i = static_cast<int>(code);
    return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
  }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, prometheus::Histogram*> histograms_;
};

namespace {

// One RPC: the clock starts when the server creates it.
class GrpcInterceptor final : public grpc::experimental::Interceptor {
 public:
  GrpcInterceptor(std::shared_ptr<GrpcProbe> probe, std::string method)
      : probe_(std::move(probe)), method_(std::move(method)),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      probe_->Finished(method_, methods->GetSendStatus().error_code(), seconds);
    }
    methods->Proceed();
  }

 private:
  std::shared_ptr<GrpcProbe> probe_;
  std::string method_;
  std::chrono::steady_clock::time_point start_;
};

class GrpcInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcInterceptorFactory(std::shared_ptr<GrpcProbe> probe) : probe_(std::move(probe)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new GrpcInterceptor(probe_, info->method() ? info->method() : "");
  }

 private:
  std::shared_ptr<GrpcProbe> probe_;
};

// Read at every scrape: resident memory (/proc/self/statm) and uptime.
class ProcessCollector final : public prometheus::Collectable {
 public:
  ProcessCollector() : start_(std::chrono::steady_clock::now()) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    auto gauge = [&](const char* name, const char* help, double value) {
      prometheus::MetricFamily family;
      family.name = name;
      family.help = help;
      family.type = prometheus::MetricType::Gauge;
      prometheus::ClientMetric metric;
      metric.gauge.value = value;
      family.metric.push_back(metric);
      out.push_back(std::move(family));
    };
    long pages_total = 0, pages_resident = 0;
    std::ifstream statm("/proc/self/statm");
    statm >> pages_total >> pages_resident;
    gauge("psc_process_resident_memory_bytes", "Resident memory of the process",
          static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)));
    gauge("psc_process_uptime_seconds", "Seconds since the process started",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    return out;
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

Telemetry::Telemetry(std::string program)
    : registry_(std::make_shared<prometheus::Registry>()),
      grpc_(std::make_shared<GrpcProbe>(*registry_)) {
  prometheus::BuildGauge()
      .Name("psc_build_info")
      .Help("Always 1: the program and version of this process")
      .Register(*registry_)
      .Add({{"program", std::move(program)}, {"version", kVersion}})
      .Set(1);
  collectables_.push_back(std::make_shared<ProcessCollector>());
}

void Telemetry::AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  if (exposer_) exposer_->RegisterCollectable(collectable);
  collectables_.push_back(std::move(collectable));
}

void Telemetry::Close() { exposer_.reset(); }

std::string Telemetry::Text() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (const auto& c : collectables_) {
    auto more = c->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

Telemetry::~Telemetry() = default;

absl::StatusOr<std::string> Telemetry::Serve(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return absl::InvalidArgumentError(
        StrCat("--metrics-listen: ", Quote(listen), " is not HOST:PORT"));
  }
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen);
  } catch (const std::exception& e) {
    return absl::UnavailableError(StrCat("--metrics-listen ", listen, ": ", e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  for (const auto& c : collectables_) exposer_->RegisterCollectable(c);
  auto ports = exposer_->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError(StrCat("--metrics-listen ", listen, ": not bound"));
  return StrCat(listen.substr(0, colon), ":", ports.front());
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
Telemetry::GrpcInterceptor() {
  return std::make_unique<GrpcInterceptorFactory>(grpc_);
}

}  // namespace psc::telemetry
