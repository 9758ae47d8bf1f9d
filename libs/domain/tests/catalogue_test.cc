#include "psc/domain/catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "psc/domain/violations.h"
#include "psc/testing/fixtures.h"

namespace psc {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::UnorderedElementsAre;

Month M(const char* s) { return *Month::Parse(s); }

class CatalogueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto change = testing::SmallCatalogue();
    ASSERT_TRUE(cat_.Check(change).ok()) << cat_.Check(change);
    cat_.Apply(change);
  }
  Catalogue cat_;
};

TEST_F(CatalogueTest, FoldsEntities) {
  EXPECT_EQ(cat_.topics().size(), 3u);
  EXPECT_EQ(cat_.collaboratives().size(), 2u);
  EXPECT_EQ(cat_.organisations().size(), 4u);
  EXPECT_EQ(cat_.measures().size(), 5u);
  ASSERT_NE(cat_.FindMeasure("falls-harm-rate.v1"), nullptr);
  EXPECT_EQ(cat_.FindMeasure("falls-harm-rate.v1")->rate_per(), 1000);
  EXPECT_EQ(*cat_.CollaborativeOf("RTH", M("2024-05")), "oxford");
  EXPECT_EQ(cat_.CollaborativeOf("XXX", M("2024-05")), nullptr);
}

TEST_F(CatalogueTest, EnrolmentByMonth) {
  EXPECT_TRUE(cat_.IsEnrolled("RHM", "news2-on-time.v1", M("2024-01")));
  EXPECT_FALSE(cat_.IsEnrolled("RHM", "news2-on-time.v1", M("2023-12")));
  EXPECT_FALSE(cat_.IsEnrolled("R1A", "news2-on-time.v1", M("2024-05")));
  EXPECT_TRUE(cat_.IsEnrolled("RTH", "falls-count.v1", M("2024-06")));
  EXPECT_FALSE(cat_.IsEnrolled("RTH", "falls-count.v1", M("2024-07")));
}

TEST_F(CatalogueTest, EnrolledOrganisationMonths) {
  // 2024/25 Q1 (Apr-Jun): wessex 2 orgs x 3 months.
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "wessex", M("2024-04"), M("2024-06")), 6);
  // oxford: RTH until June, R1A open: Q2 has 3 (R1A only).
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "oxford", M("2024-07"), M("2024-09")), 3);
  // Spanning the end of RTH's enrolment: May-Aug = RTH 2 + R1A 4.
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "oxford", M("2024-05"), M("2024-08")), 6);
  // National, before enrolment started, and an unknown measure.
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "", M("2024-04"), M("2024-06")), 12);
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "", M("2023-10"), M("2023-12")), 0);
  EXPECT_EQ(cat_.EnrolledOrgMonths("nope", "", M("2024-04"), M("2024-06")), 0);
  // news2: R1A not enrolled -> national 3 orgs x 3 months.
  EXPECT_EQ(cat_.EnrolledOrgMonths("news2-on-time.v1", "", M("2024-04"), M("2024-06")), 9);
  EXPECT_THAT(cat_.CollaborativesEnrolledIn("news2-on-time.v1"), ElementsAre("oxford", "wessex"));
}

TEST_F(CatalogueTest, IdenticalReRegistrationIsANoOp) {
  auto again = testing::SmallCatalogue("catalogue-2");
  EXPECT_TRUE(cat_.Check(again).ok());
  cat_.Apply(again);
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "wessex", M("2024-04"), M("2024-06")), 6);
}

TEST_F(CatalogueTest, ConflictingDefinitionIsRefusedNamingTheEntry) {
  v1::CatalogueChanged c;
  c.set_change_id("c2");
  auto* m = c.add_measures();
  *m = *cat_.FindMeasure("falls-count.v1");
  m->set_improvement(v1::DIRECTION_UP);
  absl::Status s = cat_.Check(c, "change.");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolationsOf(s),
              ElementsAre(AllOf(Field(&FieldViolation::field, "change.measures[0].id"),
                                Field(&FieldViolation::reason, "CONFLICTING_DEFINITION"))));
}

TEST_F(CatalogueTest, RefusesBrokenReferencesAndShapes) {
  v1::CatalogueChanged c;
  c.set_change_id("c3");
  auto* o = c.add_organisations();
  o->set_ods_code("rx1");  // lowercase
  o->set_name("X");
  o->set_collaborative_id("nowhere");
  auto* m = c.add_measures();
  m->set_id("bad-ratio.v1");
  m->set_name("Ratio of counts");
  m->set_topic_id("falls");
  m->set_type(v1::MEASURE_TYPE_OUTCOME);
  m->set_unit(v1::UNIT_COUNT);
  m->set_aggregation(v1::AGGREGATION_RATIO);
  m->set_improvement(v1::DIRECTION_DOWN);
  auto* e = c.add_enrolments();
  e->set_ods_code("RHM");
  e->set_measure_id("falls-count.v1");
  e->set_from_month("2024-03");  // overlaps the open enrolment from 2024-01
  auto* e2 = c.add_enrolments();
  e2->set_ods_code("RHM");
  e2->set_measure_id("unknown.v1");
  e2->set_from_month("2024-13");
  absl::Status s = cat_.Check(c);
  std::vector<std::string> fields;
  std::vector<std::string> reasons;
  for (const auto& v : FieldViolationsOf(s)) {
    fields.push_back(v.field);
    reasons.push_back(v.reason);
  }
  EXPECT_THAT(fields, UnorderedElementsAre("organisations[0].ods_code", "organisations[0].sector",
                                           "organisations[0].collaborative_id",
                                           "measures[0].aggregation", "enrolments[0].from_month",
                                           "enrolments[1].measure_id",
                                           "enrolments[1].from_month"));
  EXPECT_THAT(reasons, UnorderedElementsAre("INVALID_ODS_CODE", "MISSING_SECTOR",
                                            "UNKNOWN_COLLABORATIVE", "AGGREGATION_UNIT_MISMATCH",
                                            "OVERLAPPING_ENROLMENT", "UNKNOWN_MEASURE",
                                            "MALFORMED_MONTH"));
}

TEST_F(CatalogueTest, LaterPartsMayReferToEarlierPartsOfTheSameChange) {
  v1::CatalogueChanged c;
  c.set_change_id("c4");
  auto* col = c.add_collaboratives();
  col->set_id("wessex-2");
  col->set_name("Wessex 2");
  auto* o = c.add_organisations();
  o->set_ods_code("RN5");
  o->set_name("Hampshire Hospitals");
  o->set_sector(v1::SECTOR_ACUTE);
  o->set_collaborative_id("wessex-2");
  auto* e = c.add_enrolments();
  e->set_ods_code("RN5");
  e->set_measure_id("falls-count.v1");
  e->set_from_month("2024-04");
  e->set_to_month("2024-05");
  ASSERT_TRUE(cat_.Check(c).ok()) << cat_.Check(c);
  cat_.Apply(c);
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "wessex-2", M("2024-01"), M("2024-12")), 2);
}

TEST_F(CatalogueTest, ProtoIsSortedById) {
  v1::Catalogue out;
  cat_.ToProto(&out);
  ASSERT_EQ(out.organisations_size(), 4);
  EXPECT_EQ(out.organisations(0).ods_code(), "R1A");
  EXPECT_EQ(out.organisations(3).ods_code(), "RTH");
  EXPECT_EQ(out.enrolments_size(), 19);
}

}  // namespace
}  // namespace psc
