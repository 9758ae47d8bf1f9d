// Runs the projection suite on each log backend: the embedded journal, Kafka
// (through psc-kafka-test-cluster) and the in-memory log.
#include "projection_suite.h"

namespace psc::projection {
namespace {

std::string BackendName(const ::testing::TestParamInfo<::psc::testing::LogFactory>& info) {
  if (info.param == &::psc::testing::MakeJournalLog) return "Journal";
  if (info.param == &::psc::testing::MakeKafkaLog) return "Kafka";
  return "Memory";
}

INSTANTIATE_TEST_SUITE_P(Backends, ProjectionSuite,
                         ::testing::Values(&::psc::testing::MakeJournalLog,
                                           &::psc::testing::MakeKafkaLog,
                                           &::psc::testing::MakeMemoryLog),
                         BackendName);

}  // namespace
}  // namespace psc::projection
