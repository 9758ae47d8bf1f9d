#include "results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "psc/domain/number_format.h"
#include "psc/domain/strings.h"

namespace psc::bench {
namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Shown(double v, const std::string& unit) {
  char buf[64];
  if (unit == "rows/s" || unit == "events/s") {
    return Grouped(static_cast<uint64_t>(std::llround(v)));
  }
  if (unit == "ratio") {
    std::snprintf(buf, sizeof buf, "%.3f", v);
  } else if (v >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

std::string Params(const std::map<std::string, std::string>& params) {
  std::string out;
  for (const auto& [k, v] : params) StrAppend(&out, out.empty() ? "" : ", ", k, "=", v);
  return out;
}

}  // namespace

void Results::Add(Figure f) { figures_.push_back(std::move(f)); }
void Results::AddCurve(CurvePoint p) { curve_.push_back(std::move(p)); }

double Results::Value(const std::string& name) const {
  for (const auto& f : figures_) {
    if (f.name == name) return f.value;
  }
  return 0;
}

std::string Results::Table() const {
  size_t w_name = 4, w_value = 5;
  for (const auto& f : figures_) {
    w_name = std::max(w_name, f.what.size());
    w_value = std::max(w_value, Shown(f.value, f.unit).size());
  }
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%-*s  %*s  %-7s  %12s  %s\n", static_cast<int>(w_name),
                "figure", static_cast<int>(w_value), "value", "unit", "N (rows)", "parameters");
  out << line;
  for (const auto& f : figures_) {
    std::snprintf(line, sizeof line, "%-*s  %*s  %-7s  %12s  %s\n", static_cast<int>(w_name),
                  f.what.c_str(), static_cast<int>(w_value), Shown(f.value, f.unit).c_str(),
                  f.unit.c_str(), Grouped(f.n).c_str(), Params(f.params).c_str());
    out << line;
  }
  if (!curve_.empty()) {
    out << "\nrows/s by rows per request:\n";
    for (const auto& p : curve_) {
      std::snprintf(line, sizeof line, "  %-24s batch %6s  %12s rows/s  (N=%s)\n",
                    p.series.c_str(), Grouped(p.batch).c_str(),
                    Grouped(static_cast<uint64_t>(std::llround(p.rows_per_second))).c_str(),
                    Grouped(p.n).c_str());
      out << line;
    }
  }
  return out.str();
}

std::string Results::Json(const std::map<std::string, std::string>& machine) const {
  std::ostringstream out;
  out << "{\n  \"machine\": {";
  bool first = true;
  for (const auto& [k, v] : machine) {
    out << (first ? "" : ", ") << JsonString(k) << ": " << JsonString(v);
    first = false;
  }
  out << "},\n  \"figures\": [\n";
  for (size_t i = 0; i < figures_.size(); ++i) {
    const Figure& f = figures_[i];
    out << "    {\"name\": " << JsonString(f.name) << ", \"what\": " << JsonString(f.what)
        << ", \"value\": " << Number(f.value) << ", \"unit\": " << JsonString(f.unit)
        << ", \"n\": " << f.n << ", \"params\": {";
    bool p_first = true;
    for (const auto& [k, v] : f.params) {
      out << (p_first ? "" : ", ") << JsonString(k) << ": " << JsonString(v);
      p_first = false;
    }
    out << "}}" << (i + 1 < figures_.size() ? "," : "") << "\n";
  }
  out << "  ],\n  \"curve\": [\n";
  for (size_t i = 0; i < curve_.size(); ++i) {
    const CurvePoint& p = curve_[i];
    out << "    {\"series\": " << JsonString(p.series) << ", \"batch\": " << p.batch
        << ", \"rows_per_second\": " << Number(p.rows_per_second) << ", \"n\": " << p.n << "}"
        << (i + 1 < curve_.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
  return out.str();
}

std::string Results::CurveSvg() const {
  constexpr double kW = 780, kH = 420, kLeft = 90, kRight = 250, kTop = 40, kBottom = 60;
  std::set<std::string> series;
  double max_rate = 1, min_batch = 1, max_batch = 10;
  for (const auto& p : curve_) {
    series.insert(p.series);
    max_rate = std::max(max_rate, p.rows_per_second);
    max_batch = std::max<double>(max_batch, static_cast<double>(p.batch));
  }
  const double lo = std::log10(std::max(1.0, min_batch));
  const double hi = std::log10(max_batch);
  const double decades = std::ceil(std::log10(max_rate));
  const double rate_lo = std::pow(10.0, std::max(0.0, decades - 4));
  auto x = [&](double batch) {
    return kLeft + (std::log10(batch) - lo) / std::max(1e-9, hi - lo) * (kW - kLeft - kRight);
  };
  auto y = [&](double rate) {
    const double r = std::max(rate, rate_lo);
    return kTop + (decades - std::log10(r)) / (decades - std::log10(rate_lo)) * (kH - kTop - kBottom);
  };
  static const char* kColours[] = {"#005eb8", "#da291c", "#009639", "#ed8b00", "#330072"};
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kW << "\" height=\"" << kH
      << "\" viewBox=\"0 0 " << kW << " " << kH << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<title>Observations per second by rows per request</title>\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kLeft << "\" y=\"22\" font-size=\"15\">Observations per second by rows "
         "per request (log scales)</text>\n";
  for (double d = std::log10(rate_lo); d <= decades + 1e-9; d += 1) {
    const double v = std::pow(10.0, d);
    out << "<line x1=\"" << kLeft << "\" x2=\"" << kW - kRight << "\" y1=\"" << y(v) << "\" y2=\""
        << y(v) << "\" stroke=\"#ddd\"/>\n<text x=\"" << kLeft - 8 << "\" y=\"" << y(v) + 4
        << "\" text-anchor=\"end\">" << Grouped(static_cast<uint64_t>(v)) << "</text>\n";
  }
  std::set<uint64_t> batches;
  for (const auto& p : curve_) batches.insert(p.batch);
  for (uint64_t b : batches) {
    out << "<line x1=\"" << x(static_cast<double>(b)) << "\" x2=\"" << x(static_cast<double>(b))
        << "\" y1=\"" << kTop << "\" y2=\"" << kH - kBottom << "\" stroke=\"#eee\"/>\n<text x=\""
        << x(static_cast<double>(b)) << "\" y=\"" << kH - kBottom + 18
        << "\" text-anchor=\"middle\">" << Grouped(b) << "</text>\n";
  }
  out << "<text x=\"" << (kLeft + kW - kRight) / 2 << "\" y=\"" << kH - 18
      << "\" text-anchor=\"middle\">rows per request</text>\n"
      << "<text transform=\"translate(18," << (kTop + kH - kBottom) / 2
      << ") rotate(-90)\" text-anchor=\"middle\">observations per second</text>\n";
  int i = 0;
  for (const std::string& s : series) {
    const char* colour = kColours[i % 5];
    std::string points;
    for (const auto& p : curve_) {
      if (p.series != s) continue;
      StrAppend(&points, points.empty() ? "" : " ", Number(x(static_cast<double>(p.batch))), ",",
                Number(y(p.rows_per_second)));
      out << "<circle cx=\"" << x(static_cast<double>(p.batch)) << "\" cy=\""
          << y(p.rows_per_second) << "\" r=\"4\" fill=\"" << colour << "\"><title>" << s
          << ", " << p.batch << " rows per request: "
          << Grouped(static_cast<uint64_t>(p.rows_per_second)) << " rows/s</title></circle>\n";
    }
    out << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" points=\""
        << points << "\"/>\n<rect x=\"" << kW - kRight + 16 << "\" y=\"" << kTop + 20 * i
        << "\" width=\"12\" height=\"12\" fill=\"" << colour << "\"/>\n<text x=\""
        << kW - kRight + 34 << "\" y=\"" << kTop + 20 * i + 11 << "\">" << s << "</text>\n";
    ++i;
  }
  out << "</svg>\n";
  return out.str();
}

double Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(samples.size()));
  const size_t i = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(samples.size())));
  return samples[i - 1];
}

namespace {

// A `Key:  N kB` line of /proc/<pid>/status, in bytes.
uint64_t StatusBytes(int pid, std::string_view key) {
  std::ifstream status(StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':') {
      return std::stoull(line.substr(key.size() + 1)) * 1024;
    }
  }
  return 0;
}

}  // namespace

uint64_t PeakRss(int pid) { return StatusBytes(pid, "VmHWM"); }
uint64_t ResidentBytes(int pid) { return StatusBytes(pid, "VmRSS"); }

}  // namespace psc::bench
