// Golden tests of funnel plots. Rates and denominators are chosen so that
// every standard error is exact; the limits are written out beside them.
//   z95 = 1.959964, z998 = 3.090232
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "psc/domain/violations.h"
#include "psc/spc/spc.h"

namespace psc::spc {
namespace {

constexpr double kTight = 1e-9;

void ExpectBand(const FunnelBand& band, double lower, double upper, FunnelPosition position) {
  EXPECT_NEAR(band.lower, lower, kTight);
  EXPECT_NEAR(band.upper, upper, kTight);
  EXPECT_EQ(band.position, position) << Name(band.position);
}

// Proportion, shown as a percentage (factor 100). National 200 / 1000:
// p = 0.2, p (1 - p) = 0.16.
//   D = 100: se = sqrt(0.16 / 100) = 0.04
//     95%:   0.2 +/- 0.07839856 -> [12.160144, 27.839856] %
//     99.8%: 0.2 +/- 0.12360928 -> [ 7.639072, 32.360928] %
//   D = 400: se = sqrt(0.16 / 400) = 0.02
//     95%:   0.2 +/- 0.03919928 -> [16.080072, 23.919928] %
//     99.8%: 0.2 +/- 0.06180464 -> [13.819536, 26.180464] %
//   D = 4:   se = sqrt(0.16 / 4) = 0.2
//     95%:   0.2 +/- 0.3919928 -> [0 (clamped), 59.19928] %
//     99.8%: 0.2 +/- 0.6180464 -> [0 (clamped), 81.80464] %
//   D = 1:   se = 0.4
//     95%:   0.2 +/- 0.7839856 -> [0, 98.39856] %
//     99.8%: 0.2 +/- 1.2360928 -> [0, 100 (clamped)] %
TEST(FunnelTest, Proportion) {
  std::vector<FunnelUnit> units = {
      {"A", 30, 100},  // 30%: above 95% (27.84), within 99.8% (32.36)
      {"B", 5, 100},   // 5%: below both
      {"C", 80, 400},  // 20%: on the centre
      {"D", 85, 400},  // 21.25%: within both
      {"E", 4, 4},     // 100%: above both
      {"F", 1, 1},     // 100%: above 95%; equal to the clamped 99.8% limit: within
  };
  absl::StatusOr<Funnel> f = BuildFunnel(FunnelModel::kProportion, 100, 200, 1000, units);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->model, FunnelModel::kProportion);
  EXPECT_NEAR(f->centre, 20.0, kTight);
  ASSERT_EQ(f->units.size(), 6u);
  const auto& u = f->units;

  EXPECT_EQ(u[0].id, "A");
  EXPECT_EQ(u[0].numerator, 30);
  EXPECT_EQ(u[0].denominator, 100);
  EXPECT_NEAR(u[0].value, 30.0, kTight);
  ExpectBand(u[0].band95, 12.160144, 27.839856, FunnelPosition::kAbove);
  ExpectBand(u[0].band998, 7.639072, 32.360928, FunnelPosition::kWithin);

  EXPECT_NEAR(u[1].value, 5.0, kTight);
  ExpectBand(u[1].band95, 12.160144, 27.839856, FunnelPosition::kBelow);
  ExpectBand(u[1].band998, 7.639072, 32.360928, FunnelPosition::kBelow);

  EXPECT_NEAR(u[2].value, 20.0, kTight);
  ExpectBand(u[2].band95, 16.080072, 23.919928, FunnelPosition::kWithin);
  ExpectBand(u[2].band998, 13.819536, 26.180464, FunnelPosition::kWithin);

  EXPECT_NEAR(u[3].value, 21.25, kTight);
  ExpectBand(u[3].band95, 16.080072, 23.919928, FunnelPosition::kWithin);
  ExpectBand(u[3].band998, 13.819536, 26.180464, FunnelPosition::kWithin);

  EXPECT_NEAR(u[4].value, 100.0, kTight);
  ExpectBand(u[4].band95, 0.0, 59.19928, FunnelPosition::kAbove);
  ExpectBand(u[4].band998, 0.0, 81.80464, FunnelPosition::kAbove);

  EXPECT_NEAR(u[5].value, 100.0, kTight);
  ExpectBand(u[5].band95, 0.0, 98.39856, FunnelPosition::kAbove);
  ExpectBand(u[5].band998, 0.0, 100.0, FunnelPosition::kWithin);
}

// Rate per 1,000 (Poisson). National 40 / 10,000: p = 0.004, centre 4.
//   D = 1000: se = sqrt(0.004 / 1000) = 0.002
//     95%:   0.004 +/- 0.003919928 -> [0.080072, 7.919928] per 1,000
//     99.8%: 0.004 +/- 0.006180464 -> [0 (clamped), 10.180464]
//   D = 250:  se = sqrt(0.004 / 250) = 0.004
//     95%:   0.004 +/- 0.007839856 -> [0 (clamped), 11.839856]
//     99.8%: 0.004 +/- 0.012360928 -> [0 (clamped), 16.360928]
//   D = 4000: se = sqrt(0.004 / 4000) = 0.001
//     95%:   0.004 +/- 0.001959964 -> [2.040036, 5.959964]
//     99.8%: 0.004 +/- 0.003090232 -> [0.909768, 7.090232]
TEST(FunnelTest, Rate) {
  std::vector<FunnelUnit> units = {
      {"RHM", 9, 1000},   // 9: above 95%, within 99.8%
      {"RHU", 11, 1000},  // 11: above both
      {"R1F", 0, 250},    // 0: the lower limits are clamped to 0, so within
      {"RN5", 0, 1000},   // 0 < 0.080072: below 95%; within 99.8%
      {"RN7", 4, 1000},   // 4: within
      {"RVV", 8, 4000},   // 2 < 2.040036: below 95%; within 99.8%
  };
  absl::StatusOr<Funnel> f = BuildFunnel(FunnelModel::kRate, 1000, 40, 10000, units);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NEAR(f->centre, 4.0, kTight);
  EXPECT_EQ(f->display_factor, 1000.0);
  const auto& u = f->units;
  ASSERT_EQ(u.size(), 6u);

  EXPECT_NEAR(u[0].value, 9.0, kTight);
  ExpectBand(u[0].band95, 0.080072, 7.919928, FunnelPosition::kAbove);
  ExpectBand(u[0].band998, 0.0, 10.180464, FunnelPosition::kWithin);

  EXPECT_NEAR(u[1].value, 11.0, kTight);
  ExpectBand(u[1].band95, 0.080072, 7.919928, FunnelPosition::kAbove);
  ExpectBand(u[1].band998, 0.0, 10.180464, FunnelPosition::kAbove);

  EXPECT_NEAR(u[2].value, 0.0, kTight);
  ExpectBand(u[2].band95, 0.0, 11.839856, FunnelPosition::kWithin);
  ExpectBand(u[2].band998, 0.0, 16.360928, FunnelPosition::kWithin);

  ExpectBand(u[3].band95, 0.080072, 7.919928, FunnelPosition::kBelow);
  ExpectBand(u[3].band998, 0.0, 10.180464, FunnelPosition::kWithin);

  EXPECT_NEAR(u[4].value, 4.0, kTight);
  ExpectBand(u[4].band95, 0.080072, 7.919928, FunnelPosition::kWithin);

  EXPECT_NEAR(u[5].value, 2.0, kTight);
  ExpectBand(u[5].band95, 2.040036, 5.959964, FunnelPosition::kBelow);
  ExpectBand(u[5].band998, 0.909768, 7.090232, FunnelPosition::kWithin);
}

// The curves a plot draws are the limits units get: same formulas, in
// numerator / denominator units, clamped the same way.
TEST(FunnelTest, LimitsAtADenominator) {
  FunnelLimits p100 = FunnelLimitsAt(FunnelModel::kProportion, 0.2, 100, kFunnelZ95);
  EXPECT_NEAR(p100.lower, 0.12160144, kTight);
  EXPECT_NEAR(p100.upper, 0.27839856, kTight);
  FunnelLimits p1 = FunnelLimitsAt(FunnelModel::kProportion, 0.2, 1, kFunnelZ998);
  EXPECT_EQ(p1.lower, 0.0);
  EXPECT_EQ(p1.upper, 1.0);
  FunnelLimits r4000 = FunnelLimitsAt(FunnelModel::kRate, 0.004, 4000, kFunnelZ998);
  EXPECT_NEAR(r4000.lower, 0.000909768, kTight);
  EXPECT_NEAR(r4000.upper, 0.007090232, kTight);
  FunnelLimits r250 = FunnelLimitsAt(FunnelModel::kRate, 0.004, 250, kFunnelZ95);
  EXPECT_EQ(r250.lower, 0.0);
  EXPECT_NEAR(r250.upper, 0.011839856, kTight);
}

TEST(FunnelTest, RefusesBadInput) {
  auto field = [](FunnelModel model, double factor, int64_t n, int64_t d,
                  std::vector<FunnelUnit> units) {
    absl::StatusOr<Funnel> f = BuildFunnel(model, factor, n, d, units);
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    std::vector<FieldViolation> v = FieldViolationsOf(f.status());
    return v.empty() ? std::string() : v[0].field + " " + v[0].reason;
  };
  const auto kP = FunnelModel::kProportion;
  EXPECT_EQ(field(kP, 100, 1, 0, {}), "national.denominator NOT_POSITIVE");
  EXPECT_EQ(field(kP, 100, 3, 2, {}), "national.numerator EXCEEDS_DENOMINATOR");
  EXPECT_EQ(field(kP, 0, 1, 2, {}), "display_factor NOT_POSITIVE");
  EXPECT_EQ(field(kP, 100, 1, 2, {{"A", 1, 2}, {"B", 1, 0}}), "units[1].denominator NOT_POSITIVE");
  EXPECT_EQ(field(FunnelModel::kRate, 1000, 1, 2, {{"A", -1, 2}}), "units[0].numerator NEGATIVE");
  // A rate's numerator may exceed its denominator.
  EXPECT_TRUE(BuildFunnel(FunnelModel::kRate, 1000, 3, 2, {}).ok());
}

TEST(FunnelTest, Names) {
  EXPECT_EQ(Name(FunnelModel::kProportion), "proportion");
  EXPECT_EQ(Name(FunnelModel::kRate), "rate");
  EXPECT_EQ(Name(FunnelPosition::kWithin), "within");
  EXPECT_EQ(Name(FunnelPosition::kAbove), "above");
  EXPECT_EQ(Name(FunnelPosition::kBelow), "below");
}

}  // namespace
}  // namespace psc::spc
