#include "psc/testing/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "psc/domain/strings.h"

namespace psc::testing {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  if (types.count(name) > 0) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string_view s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      if (types.count(base) > 0) return base;
    }
  }
  return name;
}

}  // namespace

std::optional<double> Scrape::Value(std::string_view name,
                                    const std::map<std::string, std::string>& labels) const {
  std::optional<double> total;
  for (const Sample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (match) total = total.value_or(0) + s.value;
  }
  return total;
}

std::set<std::string> Scrape::LabelNames(const std::string& family) const {
  std::set<std::string> out;
  for (const Sample& s : samples) {
    if (FamilyOf(s.name, types) != family) continue;
    for (const auto& [k, v] : s.labels) {
      if (k != "le") out.insert(k);
    }
  }
  return out;
}

absl::StatusOr<Scrape> ParseMetrics(std::string_view text) {
  Scrape out;
  size_t line_no = 0;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(begin, end - begin));
    begin = end + 1;
    ++line_no;
    if (line.empty()) continue;
    auto bad = [&](const char* why) {
      return absl::InvalidArgumentError(StrCat("metrics line ", line_no, ": ", why, ": ", line));
    };
    if (line[0] == '#') {
      if (line.substr(0, 7) == "# TYPE ") {
        std::string_view rest = line.substr(7);
        auto space = rest.find(' ');
        if (space == std::string_view::npos) return bad("TYPE without a type");
        out.types[std::string(rest.substr(0, space))] = std::string(Trim(rest.substr(space + 1)));
      }
      continue;
    }
    Sample sample;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          return bad("label without =\"");
        }
        std::string key(Trim(line.substr(i, eq - i)));
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value.push_back(line[j] == 'n' ? '\n' : line[j]);
          } else {
            value.push_back(line[j]);
          }
        }
        if (j >= line.size()) return bad("unterminated label value");
        sample.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return bad("unterminated labels");
      ++i;
    }
    std::string value(Trim(line.substr(i)));
    if (auto space = value.find(' '); space != std::string::npos) value.resize(space);  // timestamp
    char* parse_end = nullptr;
    sample.value = std::strtod(value.c_str(), &parse_end);
    if (value.empty() || parse_end != value.c_str() + value.size()) {
      if (value != "Nan" && value != "NaN" && value != "+Inf" && value != "-Inf") {
        return bad("value is not a number");
      }
    }
    out.samples.push_back(std::move(sample));
  }
  return out;
}

Scrape Collect(const prometheus::Collectable& collectable) {
  auto parsed = ParseMetrics(prometheus::TextSerializer().Serialize(collectable.Collect()));
  return parsed.ok() ? *parsed : Scrape();
}

absl::StatusOr<std::vector<DocumentedMetric>> DocumentedMetrics() {
  const std::string path = StrCat(PSC_BUILD_SOURCE_DIR, "/docs/metrics.md");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", path));
  std::vector<DocumentedMetric> out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.find("<!-- metrics:begin -->") != std::string::npos) {
      inside = true;
      continue;
    }
    if (line.find("<!-- metrics:end -->") != std::string::npos) break;
    if (!inside || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) cells.emplace_back(Trim(cell));
    if (cells.size() < 5) return absl::InvalidArgumentError(StrCat(path, ": short row: ", line));
    DocumentedMetric m;
    m.name = cells[0].substr(1, cells[0].size() - 2);  // inside the backticks
    m.type = cells[1];
    std::stringstream labels(cells[2]);
    for (std::string label; std::getline(labels, label, ',');) {
      std::string_view t = Trim(label);
      if (!t.empty()) m.labels.insert(std::string(t));
    }
    m.processes = cells[3];
    out.push_back(std::move(m));
  }
  if (out.empty()) return absl::InvalidArgumentError(StrCat(path, ": no metrics table"));
  return out;
}

absl::StatusOr<std::string> HttpGetMetrics(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError(host_port);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(host_port);
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket");
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return absl::UnavailableError(StrCat("connect ", host_port));
  }
  const std::string request =
      StrCat("GET /metrics HTTP/1.1\r\nHost: ", host_port, "\r\nConnection: close\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("write");
  }
  std::string response;
  char buffer[8192];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) response.append(buffer, n);
  close(fd);
  if (response.rfind("HTTP/1.1 200", 0) != 0) {
    return absl::UnavailableError(StrCat("not 200: ", response.substr(0, 80)));
  }
  const auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : response.substr(body + 4);
}

}  // namespace psc::testing
