// Shapes of the ids the service accepts. Pure functions.
#pragma once

#include <string_view>

namespace psc {

// Client-chosen request ids (submission, change, learning): 1..128 chars of
// `A-Za-z0-9._:-`.
bool IsValidClientId(std::string_view id);
// Topic and collaborative ids: 1..40 chars of `a-z0-9-`.
bool IsValidSlug(std::string_view id);
// Measure ids: 1..60 chars of `a-z0-9.-`, starting with a letter or digit.
bool IsValidMeasureId(std::string_view id);
// ODS codes: 3..10 chars of `A-Z0-9`.
bool IsValidOdsCode(std::string_view code);

}  // namespace psc
