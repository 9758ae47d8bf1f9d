// The fixed reference data of the demo: topics, the 15 collaboratives and
// the measures with the model that generates each one's monthly values.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "psc/v1/catalog.pb.h"

namespace psc::demo::internal {

struct TopicSpec {
  const char* id;
  const char* name;
  bool essential;
};

struct CollaborativeSpec {
  const char* id;
  const char* name;
  // Short place name used in synthetic organisation names and in learning.
  const char* region;
};

// Sectors a measure applies to, as bits.
inline constexpr unsigned kAcute = 1;
inline constexpr unsigned kCommunity = 2;
inline constexpr unsigned kMentalHealth = 4;
inline constexpr unsigned kAmbulance = 8;
inline constexpr unsigned kAllSectors = kAcute | kCommunity | kMentalHealth | kAmbulance;

unsigned SectorBit(v1::Sector sector);

// An organisation's monthly activity that denominators and counts scale
// with.
enum class Volume { kBedDays, kAdmissions, kBirths, kStaff, kTeams, kIncidents };

// How a measure's monthly values are generated.
enum class Model {
  // numerator ~ Binomial(denominator, p); p moves by `change` (absolute)
  // over the whole window.
  kProportion,
  // numerator ~ Poisson(denominator x rate / rate_per); the rate moves by
  // `change` (relative) over the window.
  kRate,
  // numerator ~ Poisson(volume x base); moves by `change` (relative).
  kCount,
  // Staff trained to date: starts at a base fraction of the population
  // (volume x volume_fraction), grows by about `change` of it a month.
  kCumulativeCount,
  // Teams doing something to date, out of all teams: the proportion grows by
  // about `change` a month.
  kCumulativeProportion,
};

struct MeasureSpec {
  const char* id;
  const char* name;
  const char* topic_id;
  v1::MeasureType type;
  v1::Unit unit;
  int64_t rate_per;
  v1::Aggregation aggregation;
  v1::Direction improvement;
  const char* numerator_label;
  const char* denominator_label;
  // Target in display units; negative when the measure has none.
  double target;
  int on_time_days;
  unsigned sectors;
  Model model;
  // Denominator (or exposure) = volume x volume_fraction.
  Volume volume;
  double volume_fraction;
  // Starting level, drawn per organisation in [base_lo, base_hi]: a
  // proportion in 0..1, a rate per rate_per, events per unit of volume, or
  // the fraction already trained.
  double base_lo;
  double base_hi;
  // Movement in the improvement direction: see Model. Zero for measures
  // with no better direction, which drift at random instead.
  double change;
};

const std::vector<TopicSpec>& Topics();
const std::vector<CollaborativeSpec>& Collaboratives();
const std::vector<MeasureSpec>& Measures();

// The measure's definition as registered in the catalogue.
v1::Measure ToProto(const MeasureSpec& spec);

}  // namespace psc::demo::internal
