// Learning in the words a quality improvement team would use: case
// studies, stories, innovative practice and what did not work, per topic.
#pragma once

#include <string_view>

#include "psc/v1/events.pb.h"
#include "random.h"

namespace psc::demo::internal {

// Fills kind, title, summary, outcome and measure_ids of `out` for a topic
// (an id from Topics()), with figures drawn from `rng`. `region` names the
// collaborative's area. Free text holds only small numbers, never a
// 10-digit one.
void FillLearning(Rng& rng, std::string_view topic_id, std::string_view region, v1::Learning* out);

}  // namespace psc::demo::internal
