#include "psc/domain/catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "psc/domain/strings.h"
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

v1::Membership Member(const char* ods, const char* collaborative, const char* from,
                      const char* to = "") {
  v1::Membership m;
  m.set_ods_code(ods);
  m.set_collaborative_id(collaborative);
  m.set_from_month(from);
  m.set_to_month(to);
  return m;
}

v1::CatalogueChanged Memberships(const char* change_id, std::vector<v1::Membership> records) {
  v1::CatalogueChanged c;
  c.set_change_id(change_id);
  for (auto& m : records) *c.add_memberships() = std::move(m);
  return c;
}

TEST_F(CatalogueTest, MembershipDecidesTheCollaborativeOfEachMonth) {
  // RHM (registered in wessex) belongs to oxford from 2024-05 on.
  auto moved = Memberships("m1", {Member("RHM", "oxford", "2024-05")});
  ASSERT_TRUE(cat_.Check(moved).ok()) << cat_.Check(moved);
  cat_.Apply(moved);
  EXPECT_EQ(*cat_.CollaborativeOf("RHM", M("2024-04")), "wessex");
  EXPECT_EQ(*cat_.CollaborativeOf("RHM", M("2024-05")), "oxford");
  EXPECT_EQ(*cat_.CollaborativeOf("RHM", M("2031-01")), "oxford");
  // The registration itself is unchanged, and other organisations too.
  EXPECT_EQ(cat_.FindOrganisation("RHM")->collaborative_id(), "wessex");
  EXPECT_EQ(*cat_.CollaborativeOf("RDZ", M("2024-05")), "wessex");
  EXPECT_EQ(EntriesIn(moved), 1u);
  // RHM has been in both; RDZ only ever in wessex; unknown ones in none.
  EXPECT_TRUE(cat_.EverMemberOf("RHM", "wessex"));
  EXPECT_TRUE(cat_.EverMemberOf("RHM", "oxford"));
  EXPECT_TRUE(cat_.EverMemberOf("RDZ", "wessex"));
  EXPECT_FALSE(cat_.EverMemberOf("RDZ", "oxford"));
  EXPECT_FALSE(cat_.EverMemberOf("XXX", "wessex"));
}

TEST_F(CatalogueTest, LaterMembershipOverridesTheMonthsItCovers) {
  cat_.Apply(Memberships("m1", {Member("RHM", "oxford", "2024-05")}));
  // A correction recorded later: June to August were wessex after all. Not
  // a conflict: the later record wins for its months only.
  auto fix = Memberships("m2", {Member("RHM", "wessex", "2024-06", "2024-08")});
  ASSERT_TRUE(cat_.Check(fix).ok()) << cat_.Check(fix);
  cat_.Apply(fix);
  EXPECT_EQ(*cat_.CollaborativeOf("RHM", M("2024-04")), "wessex");
  EXPECT_EQ(*cat_.CollaborativeOf("RHM", M("2024-05")), "oxford");
  EXPECT_EQ(*cat_.CollaborativeOf("RHM", M("2024-06")), "wessex");
  EXPECT_EQ(*cat_.CollaborativeOf("RHM", M("2024-08")), "wessex");
  EXPECT_EQ(*cat_.CollaborativeOf("RHM", M("2024-09")), "oxford");

  // Within one change, the later record wins too: RTH is wessex for 2024-07
  // only.
  cat_.Apply(Memberships("m3", {Member("RTH", "wessex", "2024-07", "2024-09"),
                                Member("RTH", "oxford", "2024-08", "2024-09")}));
  EXPECT_EQ(*cat_.CollaborativeOf("RTH", M("2024-06")), "oxford");
  EXPECT_EQ(*cat_.CollaborativeOf("RTH", M("2024-07")), "wessex");
  EXPECT_EQ(*cat_.CollaborativeOf("RTH", M("2024-08")), "oxford");

  // The catalogue lists the resolved timeline, which loads back the same.
  v1::Catalogue out;
  cat_.ToProto(&out);
  std::vector<std::string> listed;
  for (const auto& m : out.memberships()) {
    listed.push_back(StrCat(m.ods_code(), " ", m.collaborative_id(), " ", m.from_month(), "..",
                            m.to_month()));
  }
  EXPECT_THAT(listed, ElementsAre("RHM oxford 2024-05..2024-05", "RHM wessex 2024-06..2024-08",
                                  "RHM oxford 2024-09..", "RTH wessex 2024-07..2024-07",
                                  "RTH oxford 2024-08..2024-09"));
  Catalogue reloaded;
  reloaded.Apply(testing::SmallCatalogue());
  v1::CatalogueChanged again;
  again.set_change_id("again");
  *again.mutable_memberships() = out.memberships();
  reloaded.Apply(again);
  for (Month m = M("2024-01"); m <= M("2025-12"); m = m.Plus(1)) {
    for (const char* ods : {"RHM", "RTH"}) {
      EXPECT_EQ(*reloaded.CollaborativeOf(ods, m), *cat_.CollaborativeOf(ods, m))
          << ods << " " << m.ToString();
    }
  }
}

TEST_F(CatalogueTest, EnrolledMonthsCountUnderTheCollaborativeOfEachMonth) {
  // 2024/25 Q1 is April-June. RHM moves from wessex to oxford from May, the
  // quarter's second month: wessex keeps RHM's April, oxford gains May and
  // June.
  cat_.Apply(Memberships("m1", {Member("RHM", "oxford", "2024-05")}));
  // wessex: RDZ 3 + RHM 1 = 4; oxford: RTH 3 + R1A 3 + RHM 2 = 8.
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "wessex", M("2024-04"), M("2024-06")), 4);
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "oxford", M("2024-04"), M("2024-06")), 8);
  // The nation is unchanged: 4 organisations x 3 months.
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "", M("2024-04"), M("2024-06")), 12);
  // RHM alone in its months: April in wessex is 1 org-month, May-June in
  // oxford 2 (news2 has no R1A; RTH's is open).
  EXPECT_EQ(cat_.EnrolledOrgMonths("news2-on-time.v1", "wessex", M("2024-04"), M("2024-04")), 2);
  EXPECT_EQ(cat_.EnrolledOrgMonths("news2-on-time.v1", "oxford", M("2024-05"), M("2024-06")), 4);

  // Moved back for June by a later correction: wessex 3 + 2 = 5, oxford 7.
  cat_.Apply(Memberships("m2", {Member("RHM", "wessex", "2024-06", "2024-06")}));
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "wessex", M("2024-04"), M("2024-06")), 5);
  EXPECT_EQ(cat_.EnrolledOrgMonths("falls-count.v1", "oxford", M("2024-04"), M("2024-06")), 7);

  // A collaborative that only ever holds moved months is enrolled too.
  v1::CatalogueChanged north;
  north.set_change_id("north");
  auto* c = north.add_collaboratives();
  c->set_id("north");
  c->set_name("North");
  *north.add_memberships() = Member("RDZ", "north", "2024-04", "2024-04");
  ASSERT_TRUE(cat_.Check(north).ok()) << cat_.Check(north);
  cat_.Apply(north);
  EXPECT_THAT(cat_.CollaborativesEnrolledIn("cc-admissions.v1"),
              ElementsAre("north", "oxford", "wessex"));
  EXPECT_EQ(cat_.EnrolledOrgMonths("cc-admissions.v1", "north", M("2024-01"), M("2024-12")), 1);
  EXPECT_EQ(cat_.EnrolledOrgMonths("cc-admissions.v1", "", M("2024-04"), M("2024-06")), 12);
}

TEST_F(CatalogueTest, EnrolmentsAfterAMoveCountUnderTheNewCollaborative) {
  cat_.Apply(Memberships("m1", {Member("R1A", "wessex", "2024-05")}));
  // R1A enrols for news2 from June, after its move was recorded.
  v1::CatalogueChanged c;
  c.set_change_id("late");
  auto* e = c.add_enrolments();
  e->set_ods_code("R1A");
  e->set_measure_id("news2-on-time.v1");
  e->set_from_month("2024-06");
  ASSERT_TRUE(cat_.Check(c).ok()) << cat_.Check(c);
  cat_.Apply(c);
  // wessex Q1 news2: RHM 3 + RDZ 3 + R1A June 1 = 7; oxford RTH 3.
  EXPECT_EQ(cat_.EnrolledOrgMonths("news2-on-time.v1", "wessex", M("2024-04"), M("2024-06")), 7);
  EXPECT_EQ(cat_.EnrolledOrgMonths("news2-on-time.v1", "oxford", M("2024-04"), M("2024-06")), 3);
  EXPECT_THAT(cat_.MeasuresEnrolled("R1A"),
              ElementsAre("cc-admissions.v1", "falls-count.v1", "falls-harm-rate.v1",
                          "news2-on-time.v1", "staff-trained.v1"));
}

TEST_F(CatalogueTest, MovesInNamesTheMonthsAChangeMoves) {
  cat_.Apply(Memberships("m1", {Member("RHM", "oxford", "2024-05")}));
  auto change = Memberships("m2", {Member("RHM", "wessex", "2024-06", "2024-08"),
                                   Member("RHM", "oxford", "2024-03", "2024-04"),
                                   Member("RDZ", "wessex", "2024-01"),  // where it is
                                   Member("RTH", "wessex", "2024-10")});
  EXPECT_THAT(cat_.MovesIn(change),
              ElementsAre(MembershipMove{"RHM", {M("2024-03"), M("2024-04")}, "wessex", "oxford"},
                          MembershipMove{"RHM", {M("2024-06"), M("2024-08")}, "oxford", "wessex"},
                          MembershipMove{"RTH", {M("2024-10"), std::nullopt}, "oxford",
                                         "wessex"}));
  // MovesIn does not apply the change.
  EXPECT_EQ(*cat_.CollaborativeOf("RHM", M("2024-06")), "oxford");
  // Loading the timeline again moves nothing.
  EXPECT_THAT(cat_.MovesIn(Memberships("m3", {Member("RHM", "oxford", "2024-05")})),
              ::testing::IsEmpty());
}

TEST_F(CatalogueTest, MembershipErrorsNameTheField) {
  auto c = Memberships("bad", {Member("XXX", "oxford", "2024-05"),
                               Member("RHM", "nowhere", "2024-13"),
                               Member("RDZ", "oxford", "2024-06", "2024-05"),
                               Member("RTH", "wessex", "2024-06", "june")});
  absl::Status s = cat_.Check(c, "change.");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> refusals;
  for (const auto& v : FieldViolationsOf(s)) refusals.push_back(StrCat(v.field, " ", v.reason));
  EXPECT_THAT(refusals, ElementsAre("change.memberships[0].ods_code UNKNOWN_ORGANISATION",
                                    "change.memberships[1].collaborative_id UNKNOWN_COLLABORATIVE",
                                    "change.memberships[1].from_month MALFORMED_MONTH",
                                    "change.memberships[2].to_month INVALID_RANGE",
                                    "change.memberships[3].to_month MALFORMED_MONTH"));

  // An organisation and its membership in one change are fine.
  v1::CatalogueChanged both;
  both.set_change_id("both");
  auto* o = both.add_organisations();
  o->set_ods_code("RN5");
  o->set_name("Hampshire Hospitals");
  o->set_sector(v1::SECTOR_ACUTE);
  o->set_collaborative_id("wessex");
  *both.add_memberships() = Member("RN5", "oxford", "2025-04");
  ASSERT_TRUE(cat_.Check(both).ok()) << cat_.Check(both);
  cat_.Apply(both);
  EXPECT_EQ(*cat_.CollaborativeOf("RN5", M("2025-03")), "wessex");
  EXPECT_EQ(*cat_.CollaborativeOf("RN5", M("2025-04")), "oxford");
}

TEST_F(CatalogueTest, RegisteringAnOrganisationInAnotherCollaborativePointsToMemberships) {
  v1::CatalogueChanged c = testing::SmallCatalogue("again");
  c.mutable_organisations(0)->set_collaborative_id("oxford");
  auto violations = FieldViolationsOf(cat_.Check(c));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "organisations[0].ods_code");
  EXPECT_EQ(violations[0].reason, "CONFLICTING_DEFINITION");
  EXPECT_THAT(violations[0].description, ::testing::HasSubstr("memberships[]"));
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
