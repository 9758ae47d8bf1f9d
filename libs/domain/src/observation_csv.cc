#include "psc/domain/observation_csv.h"

#include <charconv>
#include <optional>

#include "psc/domain/strings.h"
#include "psc/domain/violations.h"

namespace psc {
namespace {

constexpr const char* kColumns[] = {"org_code", "measure_id", "month", "numerator",
                                    "denominator"};

// Splits one CSV record starting at `pos`; advances `pos` past its line end.
// Returns nullopt on an unterminated quote. Counts physical lines consumed.
std::optional<std::vector<std::string>> NextRecord(std::string_view text, size_t& pos,
                                                   int& lines_consumed) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  lines_consumed = 1;
  while (pos < text.size()) {
    char c = text[pos];
    if (quoted) {
      if (c == '"') {
        if (pos + 1 < text.size() && text[pos + 1] == '"') {
          fields.back() += '"';
          pos += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c == '\n') ++lines_consumed;
        fields.back() += c;
      }
      ++pos;
      continue;
    }
    if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') {
      pos += 2;
      return fields;
    } else if (c == '\n') {
      ++pos;
      return fields;
    } else {
      fields.back() += c;
    }
    ++pos;
  }
  if (quoted) return std::nullopt;
  return fields;
}

// Parses a whole non-negative-or-negative integer; explains what is wrong.
std::optional<int64_t> ParseCount(const std::string& s, std::string field, Violations& v) {
  if (s.empty()) {
    v.Add(std::move(field), "MISSING_VALUE", "is empty");
    return std::nullopt;
  }
  int64_t value = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    v.Add(std::move(field), "OUT_OF_RANGE", StrCat(Quote(s), " is too large"));
    return std::nullopt;
  }
  if (ec == std::errc() && ptr == end) return value;
  if (s.find_first_of(".eE") != std::string::npos &&
      s.find_first_not_of("+-0123456789.eE") == std::string::npos) {
    v.Add(std::move(field), "FRACTIONAL", StrCat(Quote(s), " is not a whole number"));
  } else {
    v.Add(std::move(field), "NOT_A_NUMBER", StrCat(Quote(s), " is not a whole number"));
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<ObservationCsv> ParseObservationCsv(std::string_view text) {
  Violations v(100);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t pos = 0;
  int line = 1;
  int consumed = 0;
  auto header = NextRecord(text, pos, consumed);
  std::string header_text;
  if (header) {
    for (size_t i = 0; i < header->size(); ++i) {
      StrAppend(&header_text, i ? "," : "", (*header)[i]);
    }
  }
  if (header_text != kObservationCsvHeader) {
    v.Add("line 1", "WRONG_HEADER",
          StrCat("header must be exactly ", Quote(kObservationCsvHeader), ", found '",
                       header_text.substr(0, 120), "'"));
    return v.ToStatus("CSV refused");
  }
  line += consumed;

  ObservationCsv out;
  while (pos < text.size()) {
    int start_line = line;
    auto fields = NextRecord(text, pos, consumed);
    line += consumed;
    if (!fields) {
      v.Add(StrCat("line ", start_line), "UNTERMINATED_QUOTE",
            "a quoted field is not closed");
      break;
    }
    if (fields->size() == 1 && (*fields)[0].empty()) continue;  // blank line
    if (fields->size() != 5) {
      v.Add(StrCat("line ", start_line), "WRONG_FIELD_COUNT",
            StrCat("has ", fields->size(), " fields; expected 5 (", kObservationCsvHeader,
                         ")"));
      continue;
    }
    auto col = [&](int i) { return StrCat("line ", start_line, ": ", kColumns[i]); };
    v1::Observation row;
    row.set_ods_code((*fields)[0]);
    row.set_measure_id((*fields)[1]);
    row.set_month((*fields)[2]);
    if (row.ods_code().empty()) v.Add(col(0), "MISSING_VALUE", "is empty");
    if (row.measure_id().empty()) v.Add(col(1), "MISSING_VALUE", "is empty");
    if (auto n = ParseCount((*fields)[3], col(3), v)) row.set_numerator(*n);
    if (!(*fields)[4].empty()) {
      if (auto d = ParseCount((*fields)[4], col(4), v)) row.set_denominator(*d);
    }
    out.rows.push_back(std::move(row));
    out.lines.push_back(start_line);
  }
  if (!v.empty()) return v.ToStatus("CSV refused");
  if (out.rows.empty()) {
    return InvalidField("line 2", "NO_ROWS", "the file has a header but no rows");
  }
  return out;
}

std::string CsvFieldOf(std::string_view field, const std::vector<int>& lines) {
  if (field.substr(0, 5) != "rows[") return std::string(field);
  size_t close = field.find(']');
  if (close == std::string_view::npos) return std::string(field);
  size_t index = 0;
  auto [ptr, ec] = std::from_chars(field.data() + 5, field.data() + close, index);
  if (ec != std::errc() || index >= lines.size()) return std::string(field);
  std::string_view rest = field.substr(close + 1);
  if (!rest.empty() && rest[0] == '.') rest.remove_prefix(1);
  std::string column(rest);
  if (column == "ods_code") column = "org_code";
  return StrCat("line ", lines[index], rest.empty() ? "" : ": ", column);
}

}  // namespace psc
