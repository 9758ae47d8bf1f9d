// Reading Prometheus metrics in tests: the text format as /metrics serves
// it, parsed into samples and family types, and the documented contract of
// docs/metrics.md.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace psc::testing {

struct Sample {
  std::string name;  // with any _bucket/_sum/_count suffix
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Scrape {
  std::vector<Sample> samples;
  // Family name -> type ("counter", "gauge", "histogram", ...), from the
  // `# TYPE` lines.
  std::map<std::string, std::string> types;

  // The value of the sample named `name` whose labels include `labels`
  // (summed over the samples that match), or none when no sample matches.
  std::optional<double> Value(std::string_view name,
                              const std::map<std::string, std::string>& labels = {}) const;
  // Every label name seen on the family `family` (histogram suffixes and
  // `le` left out).
  std::set<std::string> LabelNames(const std::string& family) const;
};

// Parses the Prometheus text exposition format; INVALID_ARGUMENT names the
// line that does not parse.
absl::StatusOr<Scrape> ParseMetrics(std::string_view text);

// Everything `collectable` (a registry, a collector) holds, serialized and
// parsed back.
Scrape Collect(const prometheus::Collectable& collectable);

// One row of the table in docs/metrics.md.
struct DocumentedMetric {
  std::string name;
  std::string type;
  std::set<std::string> labels;
  std::string processes;  // letters d, g, p; "(Kafka)" kept as written
};

// The table between `<!-- metrics:begin -->` and `<!-- metrics:end -->` of
// docs/metrics.md in the source tree.
absl::StatusOr<std::vector<DocumentedMetric>> DocumentedMetrics();

// GET http://HOST:PORT/metrics; the body.
absl::StatusOr<std::string> HttpGetMetrics(const std::string& host_port);

}  // namespace psc::testing
