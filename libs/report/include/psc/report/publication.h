// Freezing a quarterly report for publication and telling what has changed
// since (DESIGN invariant 6).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "psc/v1/events.pb.h"
#include "psc/v1/publication.pb.h"
#include "psc/v1/query.pb.h"

namespace psc::report {

// Names the renderers, so a publication records what produced its bytes.
inline constexpr char kRendererVersion[] = "psc-report/3";

// The publication event of `report`: the structured report and its
// renderings with their hashes, without learning text (it stays erasable,
// so it is never frozen: items keep id, kind, month and links). Internal:
// text, JSON, CSV and HTML, unsuppressed.
// Public: only the CSV after disclosure control (libs/disclosure, the HES
// small-number rule).
v1::QuarterPublished FreezeQuarter(const v1::QuarterlyReport& report,
                                   const std::string& publication_id, bool for_public = false);

// Every figure (measure, area, field) that differs between `published` and
// `current`, in report order; a figure present in only one of them lists
// its fields with the other side absent.
std::vector<v1::Revision> Revisions(const v1::QuarterlyReport& published,
                                    const v1::QuarterlyReport& current);

// Appends to `out` a Revision for each field (numerator, denominator, value,
// reported, expected, on_time) that differs between `before` and `after`;
// a missing side (nullptr) lists every field of the other with its own
// side absent.
void CompareFigures(const std::string& measure_id, const std::string& area,
                    const v1::Figure* before, const v1::Figure* after,
                    std::vector<v1::Revision>& out);

// The sign-off event of `collaborative_id`'s figures in `report`: one per
// measure the collaborative appears under, in report order.
v1::QuarterSignedOff SignOffFigures(const v1::QuarterlyReport& report,
                                    const std::string& collaborative_id,
                                    const std::string& sign_off_id);

// A signed-off figure as a report Figure.
v1::Figure FigureOf(const v1::SignedOffFigure& f);

}  // namespace psc::report
