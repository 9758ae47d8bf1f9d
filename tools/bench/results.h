// What the benchmark measured: figures with the parameters beside them,
// printed as a table, written as JSON, and the batch-size curve as an SVG
// chart.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace psc::bench {

struct Figure {
  std::string name;   // e.g. "ingest_end_to_end"
  std::string what;   // for people: "pscd, gRPC in until queryable"
  double value = 0;
  std::string unit;   // "rows/s", "ms", "MiB", "ratio"
  uint64_t n = 0;     // observation rows behind the figure
  std::map<std::string, std::string> params;
};

struct CurvePoint {
  std::string series;  // "pscd end-to-end", "journal append"
  uint64_t batch = 0;
  double rows_per_second = 0;
  uint64_t n = 0;
};

class Results {
 public:
  void Add(Figure f);
  void AddCurve(CurvePoint p);
  const std::vector<Figure>& figures() const { return figures_; }
  const std::vector<CurvePoint>& curve() const { return curve_; }
  // The value of a figure by name, 0 when absent.
  double Value(const std::string& name) const;

  std::string Table() const;
  std::string Json(const std::map<std::string, std::string>& machine) const;
  // Rows per second against batch size (log scales), one line per series.
  std::string CurveSvg() const;

 private:
  std::vector<Figure> figures_;
  std::vector<CurvePoint> curve_;
};

// p in [0, 100] of `samples` (nearest rank); 0 when empty.
double Percentile(std::vector<double> samples, double p);

// Peak resident memory (VmHWM) of a process, bytes; 0 when unknown.
uint64_t PeakRss(int pid);
// Resident memory (VmRSS) of a process now, bytes; 0 when unknown.
uint64_t ResidentBytes(int pid);

}  // namespace psc::bench
