#include "psc/demo/demo.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "catalogue_data.h"
#include "google/protobuf/io/coded_stream.h"
#include "learning_text.h"
#include "psc/domain/strings.h"
#include "psc/domain/validation.h"
#include "random.h"

namespace psc::demo {
namespace {

using internal::Collaboratives;
using internal::Measures;
using internal::MeasureSpec;
using internal::Model;
using internal::Rng;
using internal::Stream;
using internal::Topics;
using internal::Volume;

constexpr char kChangeIdPrefix[] = "demo-catalogue-";

// Share of organisations leaving the programme.
constexpr double kLeaveRate = 0.03;
// Share of organisations whose measures get worse instead of better.
constexpr double kWorseningRate = 0.08;
// Enrolment opens over the first seven months (Apr .. Oct 2023 by default).
constexpr int kEnrolmentWindow = 6;

// Activity is higher in winter (January first).
constexpr std::array<double, 12> kSeason = {1.06, 1.05, 1.03, 1.00, 0.98, 0.97,
                                            0.96, 0.96, 0.98, 1.00, 1.03, 1.06};

int64_t Round(double x) { return std::llround(x); }

// One registered measure: a definition of Measures() and its variant.
struct MeasureDef {
  const MeasureSpec* spec;
  std::string id;
  std::string name;
};

struct Enrolment {
  int measure;  // index into Programme::measures
  int from;     // month offsets from first_month, inclusive
  int to;
  // Index of month `from` in the values table (see MakeValues).
  size_t first_value = 0;

  bool Covers(int t) const { return t >= from && t <= to; }
};

struct Organisation {
  std::string ods;
  int collaborative;
  v1::Sector sector;
  std::vector<Enrolment> enrolments;
};

// Everything the catalogue holds, before any value is drawn.
struct Programme {
  DemoOptions options;  // with every field in range
  std::vector<MeasureDef> measures;
  std::vector<Organisation> orgs;
  std::vector<std::string> month_text;  // [t]: first_month + t as YYYY-MM
};

// One generated value of an organisation's measure for a month.
struct Value {
  int64_t numerator = 0;
  int64_t denominator = 0;  // 0: a count, no denominator
};

// A value as kept between drawing and sending: half the size, which is
// what a dataset of tens of millions of rows costs most. Every value fits
// with room to spare (volumes are tens of thousands a month at most).
struct StoredValue {
  int32_t numerator = 0;
  int32_t denominator = 0;
};

StoredValue Store(const Value& v) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (v.numerator < 0 || v.numerator > kMax || v.denominator < 0 || v.denominator > kMax) {
    std::abort();  // a measure model outside its design: fix the model
  }
  return {static_cast<int32_t>(v.numerator), static_cast<int32_t>(v.denominator)};
}

DemoOptions Normalised(const DemoOptions& options) {
  DemoOptions o = options;
  o.organisations_per_collaborative = std::max(0, o.organisations_per_collaborative);
  o.months = std::max(1, o.months);
  o.measure_variants = std::max(1, o.measure_variants);
  o.enrol_rate = std::clamp(o.enrol_rate, 0.0, 1.0);
  o.gap_rate = std::clamp(o.gap_rate, 0.0, 1.0);
  o.correction_rate = std::clamp(o.correction_rate, 0.0, 1.0);
  o.resend_rate = std::clamp(o.resend_rate, 0.0, 1.0);
  o.learning_per_collaborative_quarter = std::max(0, o.learning_per_collaborative_quarter);
  return o;
}

// ---------------------------------------------------------------------------
// Catalogue.

std::string ZeroPadded(int n, size_t width) {
  std::string digits = StrCat(n);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

// Every definition `variants` times, a definition's variants together:
// `falls-harm-rate.v1`, `falls-harm-rate-w02.v1`, ...
std::vector<MeasureDef> MakeMeasures(int variants) {
  const size_t width = std::max<size_t>(2, StrCat(variants).size());
  std::vector<MeasureDef> out;
  out.reserve(Measures().size() * variants);
  for (const auto& spec : Measures()) {
    out.push_back({&spec, spec.id, spec.name});
    const std::string_view id = spec.id;
    const size_t version = id.rfind(".v");
    for (int k = 2; k <= variants; ++k) {
      out.push_back({&spec,
                     StrCat(id.substr(0, version), "-w", ZeroPadded(k, width), id.substr(version)),
                     StrCat(spec.name, " (ward set ", k, ")")});
    }
  }
  return out;
}

// Per collaborative: ~60% acute, 15% community, 20% mental health, 5%
// ambulance, by largest remainder so every size gets the nearest split.
std::vector<v1::Sector> SectorQuota(int n) {
  constexpr std::array<std::pair<v1::Sector, double>, 4> kShares = {{
      {v1::SECTOR_ACUTE, 0.60},
      {v1::SECTOR_COMMUNITY, 0.15},
      {v1::SECTOR_MENTAL_HEALTH, 0.20},
      {v1::SECTOR_AMBULANCE, 0.05},
  }};
  std::array<int, 4> count{};
  std::array<double, 4> remainder{};
  int assigned = 0;
  for (size_t i = 0; i < kShares.size(); ++i) {
    const double exact = n * kShares[i].second;
    count[i] = static_cast<int>(exact);
    remainder[i] = exact - count[i];
    assigned += count[i];
  }
  while (assigned < n) {
    size_t best = 0;
    for (size_t i = 1; i < kShares.size(); ++i) {
      if (remainder[i] > remainder[best]) best = i;
    }
    ++count[best];
    remainder[best] = -1;
    ++assigned;
  }
  std::vector<v1::Sector> out;
  for (size_t i = 0; i < kShares.size(); ++i) {
    out.insert(out.end(), count[i], kShares[i].first);
  }
  return out;
}

const char* SectorLabel(v1::Sector s) {
  switch (s) {
    case v1::SECTOR_ACUTE:
      return "Acute Trust";
    case v1::SECTOR_COMMUNITY:
      return "Community Health Trust";
    case v1::SECTOR_MENTAL_HEALTH:
      return "Mental Health Trust";
    case v1::SECTOR_AMBULANCE:
      return "Ambulance Service";
    default:
      return "Trust";
  }
}

// Distinct ODS-like codes: "R" and two letters or digits, as NHS trust codes
// look; three or more when many organisations are asked for.
std::vector<std::string> OdsCodes(Rng& rng, size_t count) {
  constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t length = 2;
  size_t space = 36 * 36;
  while (space < 2 * count && length < 9) {
    ++length;
    space *= 36;
  }
  std::set<std::string> seen;
  std::vector<std::string> codes;
  codes.reserve(count);
  while (codes.size() < count) {
    std::string code = "R";
    for (size_t i = 0; i < length; ++i) code += kChars[rng.UniformInt(0, 35)];
    if (seen.insert(code).second) codes.push_back(std::move(code));
  }
  return codes;
}

std::vector<Organisation> MakeOrganisations(Rng& rng, const DemoOptions& o,
                                            const std::vector<MeasureDef>& measures) {
  const auto& collaboratives = Collaboratives();
  const int per = o.organisations_per_collaborative;
  std::vector<std::string> codes = OdsCodes(rng, collaboratives.size() * per);
  const int last_join = std::min(kEnrolmentWindow, o.months - 1);

  std::vector<Organisation> orgs;
  orgs.reserve(codes.size());
  for (size_t c = 0; c < collaboratives.size(); ++c) {
    std::vector<v1::Sector> sectors = SectorQuota(per);
    rng.Shuffle(sectors);
    for (v1::Sector sector : sectors) {
      Organisation org;
      org.ods = std::move(codes[orgs.size()]);
      org.collaborative = static_cast<int>(c);
      org.sector = sector;

      // Joins in one of the first months; a few measures start a little
      // later as teams take them on.
      const int join = static_cast<int>(rng.UniformInt(0, last_join));
      std::vector<int> applicable;
      for (size_t m = 0; m < measures.size(); ++m) {
        if (measures[m].spec->sectors & internal::SectorBit(sector)) applicable.push_back(int(m));
      }
      for (int m : applicable) {
        // Every draw is taken whether or not the measure is chosen, so one
        // choice does not shift the draws of the next.
        const bool enrol = rng.Chance(o.enrol_rate);
        const bool later = rng.Chance(0.2);
        const int delay = static_cast<int>(rng.UniformInt(1, 3));
        if (!enrol) continue;
        const int from = later ? std::min(last_join, join + delay) : join;
        org.enrolments.push_back({m, from, o.months - 1});
      }
      const int fallback =
          static_cast<int>(rng.UniformInt(0, static_cast<int64_t>(applicable.size()) - 1));
      if (org.enrolments.empty() && !applicable.empty()) {
        org.enrolments.push_back({applicable[fallback], join, o.months - 1});
      }

      // A few leave the programme: every enrolment ends the same month.
      const bool leaves = rng.Chance(kLeaveRate);
      int latest_from = 0;
      for (const auto& e : org.enrolments) latest_from = std::max(latest_from, e.from);
      const int leave = static_cast<int>(rng.UniformInt(latest_from + 3, o.months - 2));
      if (leaves && latest_from + 3 <= o.months - 2) {
        for (auto& e : org.enrolments) e.to = leave;
      }
      orgs.push_back(std::move(org));
    }
  }
  return orgs;
}

Programme MakeProgramme(const DemoOptions& options) {
  Programme p;
  p.options = Normalised(options);
  const DemoOptions& o = p.options;
  p.measures = MakeMeasures(o.measure_variants);
  Rng catalogue_rng(o.seed, Stream::kCatalogue);
  p.orgs = MakeOrganisations(catalogue_rng, o, p.measures);
  p.month_text.resize(o.months);
  for (int t = 0; t < o.months; ++t) p.month_text[t] = o.first_month.Plus(t).ToString();
  return p;
}

// Hands every entity of the catalogue to `visit` as an rvalue, in order:
// topics, collaboratives, organisations, measures, enrolments.
template <typename Visit>
void ForEachEntity(const Programme& p, Visit&& visit) {
  const DemoOptions& o = p.options;
  for (const auto& t : Topics()) {
    v1::Topic topic;
    topic.set_id(t.id);
    topic.set_name(t.name);
    topic.set_essential(t.essential);
    visit(std::move(topic));
  }
  for (const auto& s : Collaboratives()) {
    v1::Collaborative collab;
    collab.set_id(s.id);
    collab.set_name(s.name);
    visit(std::move(collab));
  }
  // Names count organisations of a sector within a collaborative:
  // "Wessex Acute Trust 3". Synthetic on purpose: never a real trust.
  std::vector<std::array<int, 7>> numbering(Collaboratives().size());
  for (const auto& org : p.orgs) {
    const auto& collab = Collaboratives()[org.collaborative];
    const int number = ++numbering[org.collaborative][org.sector];
    v1::Organisation out;
    out.set_ods_code(org.ods);
    out.set_name(StrCat(collab.region, " ", SectorLabel(org.sector), " ", number));
    out.set_sector(org.sector);
    out.set_collaborative_id(collab.id);
    visit(std::move(out));
  }
  for (const auto& def : p.measures) {
    v1::Measure m = internal::ToProto(*def.spec);
    m.set_id(def.id);
    m.set_name(def.name);
    visit(std::move(m));
  }
  for (const auto& org : p.orgs) {
    for (const auto& e : org.enrolments) {
      v1::Enrolment out;
      out.set_ods_code(org.ods);
      out.set_measure_id(p.measures[e.measure].id);
      out.set_from_month(p.month_text[e.from]);
      if (e.to < o.months - 1) out.set_to_month(p.month_text[e.to]);
      visit(std::move(out));
    }
  }
}

void AddTo(v1::CatalogueChanged* c, v1::Topic&& x) { *c->add_topics() = std::move(x); }
void AddTo(v1::CatalogueChanged* c, v1::Collaborative&& x) {
  *c->add_collaboratives() = std::move(x);
}
void AddTo(v1::CatalogueChanged* c, v1::Organisation&& x) {
  *c->add_organisations() = std::move(x);
}
void AddTo(v1::CatalogueChanged* c, v1::Measure&& x) { *c->add_measures() = std::move(x); }
void AddTo(v1::CatalogueChanged* c, v1::Enrolment&& x) { *c->add_enrolments() = std::move(x); }

v1::CatalogueChanged WholeCatalogue(const Programme& p) {
  v1::CatalogueChanged c;
  c.set_change_id(StrCat(kChangeIdPrefix, 1));
  ForEachEntity(p, [&](auto&& entity) { AddTo(&c, std::move(entity)); });
  return c;
}

// Serialized bytes of a length-delimited field of CatalogueChanged (field
// numbers below 16: a one-byte tag) whose content is `content` bytes.
size_t FieldBytes(size_t content) {
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(content) + content;
}

// Fills changes up to kCatalogueChangeBytes, numbering them from 1.
class ChangePacker {
 public:
  explicit ChangePacker(const std::function<void(v1::CatalogueChanged&&)>& sink) : sink_(sink) {
    Start();
  }

  template <typename Entity>
  void Add(Entity&& entity) {
    const size_t bytes = FieldBytes(entity.ByteSizeLong());
    if (!empty_ && bytes_ + bytes >= kCatalogueChangeBytes) Flush();
    AddTo(&change_, std::forward<Entity>(entity));
    bytes_ += bytes;
    empty_ = false;
  }

  // Hands over the change being filled, if it holds anything.
  void Flush() {
    if (empty_) return;
    sink_(std::move(change_));
    Start();
  }

 private:
  void Start() {
    change_ = v1::CatalogueChanged();
    change_.set_change_id(StrCat(kChangeIdPrefix, ++number_));
    bytes_ = change_.ByteSizeLong();
    empty_ = true;
  }

  const std::function<void(v1::CatalogueChanged&&)>& sink_;
  v1::CatalogueChanged change_;
  int number_ = 0;
  size_t bytes_ = 0;
  bool empty_ = true;
};

void CatalogueChanges(const Programme& p, const std::function<void(v1::CatalogueChanged&&)>& sink) {
  size_t whole = FieldBytes(StrCat(kChangeIdPrefix, 1).size());
  ForEachEntity(p, [&](auto&& entity) { whole += FieldBytes(entity.ByteSizeLong()); });
  if (whole < kCatalogueChangeBytes) {
    sink(WholeCatalogue(p));
    return;
  }
  // Enrolments start a change of their own: every organisation and measure
  // they name is then registered by an earlier change, which is also what
  // Catalogue::Check finds fastest.
  ChangePacker packer(sink);
  bool enrolling = false;
  ForEachEntity(p, [&](auto&& entity) {
    if constexpr (std::is_same_v<std::decay_t<decltype(entity)>, v1::Enrolment>) {
      if (!enrolling) packer.Flush();
      enrolling = true;
    }
    packer.Add(std::move(entity));
  });
  packer.Flush();
}

// ---------------------------------------------------------------------------
// Values.

// An organisation's activity, month by month, that denominators scale with.
struct Activity {
  // [month][Volume]
  std::vector<std::array<double, 6>> volume;
};

Activity MakeActivity(Rng& rng, const Organisation& org, const DemoOptions& o) {
  // Draw every base for every sector so each organisation takes the same
  // number of draws.
  const double u_bed = rng.Uniform(), u_adm = rng.Uniform(), u_births = rng.Uniform(),
               u_staff = rng.Uniform(), u_teams = rng.Uniform(), u_inc = rng.Uniform();
  auto in = [](double u, double lo, double hi) { return lo + (hi - lo) * u; };
  double bed = 0, adm = 0, births = 0, staff = 0, teams = 0, incidents = 0;
  switch (org.sector) {
    case v1::SECTOR_ACUTE:
      bed = in(u_bed, 8000, 25000);
      adm = bed * in(u_adm, 0.30, 0.40);
      births = in(u_births, 200, 500);
      staff = in(u_staff, 3000, 10000);
      teams = in(u_teams, 30, 90);
      break;
    case v1::SECTOR_COMMUNITY:
      bed = in(u_bed, 1500, 5000);
      adm = bed * 0.05;
      staff = in(u_staff, 1000, 3500);
      teams = in(u_teams, 15, 50);
      break;
    case v1::SECTOR_MENTAL_HEALTH:
      bed = in(u_bed, 3000, 9000);
      adm = bed * 0.03;
      staff = in(u_staff, 1500, 4500);
      teams = in(u_teams, 12, 40);
      break;
    default:  // ambulance
      staff = in(u_staff, 2000, 5000);
      teams = in(u_teams, 10, 30);
      incidents = in(u_inc, 15000, 45000);
      break;
  }
  Activity a;
  a.volume.resize(o.months);
  for (int t = 0; t < o.months; ++t) {
    const double season = kSeason[o.first_month.Plus(t).month() - 1];
    auto& v = a.volume[t];
    v[int(Volume::kBedDays)] = double(Round(bed * season * (1 + 0.03 * rng.Normal())));
    v[int(Volume::kAdmissions)] = double(Round(adm * season * (1 + 0.03 * rng.Normal())));
    v[int(Volume::kBirths)] = double(Round(births * (1 + 0.06 * rng.Normal())));
    v[int(Volume::kStaff)] = double(Round(staff * (1 + 0.002 * t)));
    v[int(Volume::kTeams)] = double(Round(teams));
    v[int(Volume::kIncidents)] = double(Round(incidents * season * (1 + 0.03 * rng.Normal())));
  }
  return a;
}

// Denominator (or exposure) for a month: a sample (audit) when the
// fraction is below 1, so it varies more than the activity it samples.
int64_t Exposure(Rng& rng, const MeasureSpec& spec, const Activity& a, int t) {
  const double volume = a.volume[t][int(spec.volume)];
  const double noise = rng.Normal();
  if (spec.volume_fraction >= 1.0) return std::max<int64_t>(1, Round(volume));
  return std::max<int64_t>(1, Round(volume * spec.volume_fraction * (1 + 0.1 * noise)));
}

// Values of one enrolment for months [e.from, e.to], appended to `out`.
void MakeSeries(Rng& rng, const MeasureSpec& spec, const Activity& a, const Enrolment& e,
                bool worsening, int months, std::vector<StoredValue>& out) {
  const double base = rng.Uniform(spec.base_lo, spec.base_hi);
  // How far this organisation moves: better by a varying amount, or worse.
  const double mult = worsening ? -rng.Uniform(0.3, 1.0) : rng.Uniform(0.4, 1.6);
  const double drift = rng.Uniform(-0.08, 0.08);
  const double change = spec.change != 0 ? spec.change * mult : drift;
  const double span = months > 1 ? months - 1 : 1;

  const size_t first = out.size();
  double level = base;  // cumulative models: fraction trained or doing
  int64_t teams = Round(a.volume[e.from][int(Volume::kTeams)]);
  for (int t = e.from; t <= e.to; ++t) {
    const double f = t / span;
    Value v;
    switch (spec.model) {
      case Model::kProportion: {
        const int64_t den = Exposure(rng, spec, a, t);
        const double p = std::clamp(base + change * f + 0.015 * rng.Normal(), 0.002, 0.998);
        const double sd = std::sqrt(double(den) * p * (1 - p));
        v.denominator = den;
        v.numerator = std::clamp<int64_t>(Round(double(den) * p + sd * rng.Normal()), 0, den);
        break;
      }
      case Model::kRate: {
        const int64_t den = Exposure(rng, spec, a, t);
        const double rate = std::max(0.0, base * (1 + change * f) * (1 + 0.06 * rng.Normal()));
        const double mu = double(den) * rate / double(spec.rate_per);
        v.denominator = den;
        v.numerator = std::max<int64_t>(0, Round(mu + std::sqrt(mu) * rng.Normal()));
        break;
      }
      case Model::kCount: {
        const double volume = a.volume[t][int(spec.volume)] * spec.volume_fraction;
        const double mu =
            std::max(0.0, volume * base * (1 + change * f) * (1 + 0.05 * rng.Normal()));
        v.numerator = std::max<int64_t>(0, Round(mu + std::sqrt(mu) * rng.Normal()));
        break;
      }
      case Model::kCumulativeCount: {
        const double population =
            std::max(1.0, a.volume[t][int(spec.volume)] * spec.volume_fraction);
        const double gain = rng.Uniform(0.2, 1.8);
        if (t > e.from) level += spec.change * (worsening ? 0.3 : 1.0) * gain;
        level = std::min(level, 0.97);
        v.numerator = Round(population * level);
        break;
      }
      case Model::kCumulativeProportion: {
        const double gain = rng.Uniform(0.0, 2.0);
        const bool reorganised = rng.Chance(0.04);
        const int64_t step = rng.UniformInt(-1, 2);
        if (t > e.from) {
          level = std::min(0.98, level + spec.change * (worsening ? 0.3 : 1.0) * gain);
          if (reorganised) teams = std::max<int64_t>(1, teams + step);
        }
        v.denominator = teams;
        v.numerator = std::min<int64_t>(teams, Round(double(teams) * level));
        break;
      }
    }
    out.push_back(Store(v));
  }
  // Staff trained to date never goes down, even as the headcount moves.
  if (spec.model == Model::kCumulativeCount) {
    for (size_t i = first + 1; i < out.size(); ++i) {
      out[i].numerator = std::max(out[i].numerator, out[i - 1].numerator);
    }
  }
}

// Every organisation's values for every enrolled month, whether or not its
// return arrives (the data do not depend on the gap, correction or resend
// rates), organisation by organisation; sets each enrolment's first_value.
std::vector<StoredValue> MakeValues(Programme& p) {
  size_t cells = 0;
  for (const auto& org : p.orgs) {
    for (const auto& e : org.enrolments) cells += e.to - e.from + 1;
  }
  std::vector<StoredValue> values;
  values.reserve(cells);
  Rng values_rng(p.options.seed, Stream::kValues);
  for (auto& org : p.orgs) {
    const bool worsening = values_rng.Chance(kWorseningRate);
    const Activity activity = MakeActivity(values_rng, org, p.options);
    for (auto& e : org.enrolments) {
      e.first_value = values.size();
      MakeSeries(values_rng, *p.measures[e.measure].spec, activity, e, worsening, p.options.months,
                 values);
    }
  }
  return values;
}

// The draws behind one corrected row, taken whether or not they matter.
struct CorrectionDraws {
  bool change_den;
  double size;
  bool up;
};

CorrectionDraws DrawCorrection(Rng& rng, bool has_den) {
  CorrectionDraws d;
  d.change_den = has_den && rng.Chance(0.5);
  d.size = rng.Uniform(0.02, 0.10);
  d.up = rng.Chance(0.5);
  return d;
}

// A corrected value for a row: numerator or denominator moved a little,
// still valid for the unit, and always different from the original.
void Correct(const CorrectionDraws& d, const MeasureSpec& spec, v1::Observation* row) {
  const int64_t num = row->numerator();
  const bool has_den = row->has_denominator();
  const int64_t den = has_den ? row->denominator() : 0;
  const bool change_den = d.change_den;
  const double size = d.size;
  const bool up = d.up;
  if (change_den) {
    const int64_t delta = std::max<int64_t>(1, Round(double(den) * size));
    const int64_t floor = spec.unit == v1::UNIT_PROPORTION ? std::max<int64_t>(1, num) : 1;
    row->set_denominator(!up && den - delta >= floor ? den - delta : den + delta);
    return;
  }
  const int64_t delta = std::max<int64_t>(1, Round(double(num) * size));
  const int64_t ceiling = spec.unit == v1::UNIT_PROPORTION ? den : kMaxCount;
  int64_t changed = up ? num + delta : num - delta;
  if (changed < 0 || changed > ceiling) changed = up ? num - delta : num + delta;
  if (changed < 0 || changed > ceiling) {
    // A small proportion with no room either way for the full delta (say
    // 1 of 1): move by one, or grow the denominator.
    if (num > 0) {
      changed = num - 1;
    } else if (num < ceiling) {
      changed = num + 1;
    } else {
      row->set_denominator(den + 1);
      return;
    }
  }
  row->set_numerator(changed);
}

// ---------------------------------------------------------------------------
// Requests.

bool HasRows(const Organisation& org, int t) {
  for (const auto& e : org.enrolments) {
    if (e.Covers(t)) return true;
  }
  return false;
}

v1::Observation* AddRow(const Programme& p, const std::vector<StoredValue>& values,
                        const Organisation& org, const Enrolment& e, int t,
                        v1::ObservationsSubmitted* batch) {
  const StoredValue& v = values[e.first_value + (t - e.from)];
  auto* row = batch->add_rows();
  row->set_ods_code(org.ods);
  row->set_measure_id(p.measures[e.measure].id);
  row->set_month(p.month_text[t]);
  row->set_numerator(v.numerator);
  if (v.denominator > 0) row->set_denominator(v.denominator);
  return row;
}

// The organisation's return for month t: every measure enrolled in it.
v1::ObservationsSubmitted MakeReturn(const Programme& p, const std::vector<StoredValue>& values,
                                     const Organisation& org, int t) {
  v1::ObservationsSubmitted batch;
  batch.set_submission_id(StrCat(org.ods, "-", p.month_text[t]));
  for (const auto& e : org.enrolments) {
    if (e.Covers(t)) AddRow(p, values, org, e, t, &batch);
  }
  return batch;
}

std::string TwoDigits(int n) {
  n %= 100;
  return StrCat(n < 10 ? "0" : "", n);
}

// How many requests of each kind the dataset holds, and where the resend
// draws of corrections begin. Requests are numbered (and take their
// arrival draws) returns first, then corrections, then resends of returns,
// then resends of corrections, then learning; each kind in the order of
// the returns it comes from.
struct Census {
  uint64_t returns = 0;
  uint64_t corrections = 0;
  uint64_t resent_returns = 0;
  uint64_t resent_corrections = 0;
  Rng corrections_resends;
};

// Takes the gap, correction and resend draws of the whole dataset, in the
// order the requests are made, without building a request.
Census TakeCensus(const Programme& p, const std::vector<StoredValue>& values) {
  const DemoOptions& o = p.options;
  Rng gaps_rng(o.seed, Stream::kGaps);
  Rng corrections_rng(o.seed, Stream::kCorrections);
  Rng resends_rng(o.seed, Stream::kResends);
  Census c{.corrections_resends = resends_rng};
  for (int t = 0; t < o.months; ++t) {
    for (const auto& org : p.orgs) {
      if (!HasRows(org, t)) continue;
      if (gaps_rng.Chance(o.gap_rate)) continue;
      ++c.returns;
      bool corrected = false;
      for (const auto& e : org.enrolments) {
        if (!e.Covers(t) || !corrections_rng.Chance(o.correction_rate)) continue;
        corrected = true;
        DrawCorrection(corrections_rng, values[e.first_value + (t - e.from)].denominator > 0);
      }
      if (corrected) ++c.corrections;
      if (resends_rng.Chance(o.resend_rate)) {
        resends_rng.UniformInt(1, 3);
        ++c.resent_returns;
      }
    }
  }
  c.corrections_resends = resends_rng;
  for (uint64_t i = 0; i < c.corrections; ++i) {
    if (resends_rng.Chance(o.resend_rate)) {
      resends_rng.UniformInt(1, 3);
      ++c.resent_corrections;
    }
  }
  return c;
}

// A request waiting for the month it arrives in.
struct Due {
  int phase;  // 0 returns (and resends), 1 corrections, 2 learning
  uint64_t tiebreak;
  uint64_t seq;  // its number among all requests: makes the order total
  // The return of orgs[org] for month t, built when it is handed over;
  // -1 when `request` is already built.
  int org = -1;
  int t = 0;
  DemoRequest request;
};

// The arrival draw and number of the next request of one kind.
struct Numbering {
  Rng arrival;
  uint64_t seq;
  std::pair<uint64_t, uint64_t> Next() { return {arrival.Next(), seq++}; }
  // The numbering of the kind that follows `count` requests of this one.
  Numbering After(uint64_t count) const {
    Numbering next = *this;
    next.arrival.Discard(count);
    next.seq += count;
    return next;
  }
};

// Hands every request to `sink` in arrival order: by month, then returns
// (and resends) before corrections before learning, shuffled within each.
// Month by month, in the order of the draws, so that only the requests
// still to arrive are held: a correction waits a month, a resend up to four.
void Produce(Programme& p, const std::function<void(DemoRequest&&)>& sink) {
  const DemoOptions& o = p.options;
  const std::vector<StoredValue> values = MakeValues(p);
  Census census = TakeCensus(p, values);

  Numbering returns{Rng(o.seed, Stream::kArrival), 0};
  Numbering corrections = returns.After(census.returns);
  Numbering resent_returns = corrections.After(census.corrections);
  Numbering resent_corrections = resent_returns.After(census.resent_returns);
  Numbering learning = resent_corrections.After(census.resent_corrections);

  // [slot]: requests arriving in the month first_month + slot. Returns
  // arrive the month after theirs (slot t + 1), corrections a month later,
  // resends of those up to three months later still.
  std::vector<std::vector<Due>> due(o.months + 5);
  auto add = [&](int slot, int phase, Numbering& numbering, DemoRequest request, int org = -1,
                 int t = 0) {
    const auto [tiebreak, seq] = numbering.Next();
    due[slot].push_back({phase, tiebreak, seq, org, t, std::move(request)});
  };

  Rng learning_rng(o.seed, Stream::kLearning);
  // Learning: each collaborative shares a few items a quarter.
  const Month last = o.first_month.Plus(o.months - 1);
  for (Quarter q = Quarter::Containing(o.first_month); q <= Quarter::Containing(last);
       q = Quarter::FromIndex(q.index() + 1)) {
    const int lo = std::max(0, o.first_month.MonthsUntil(q.FirstMonth()));
    const int hi = std::min(o.months - 1, o.first_month.MonthsUntil(q.LastMonth()));
    for (const auto& collab : Collaboratives()) {
      for (int k = 1; k <= o.learning_per_collaborative_quarter; ++k) {
        const int t = static_cast<int>(learning_rng.UniformInt(lo, hi));
        const auto& topic = Topics()[learning_rng.UniformInt(0, int64_t(Topics().size()) - 1)];
        v1::Learning l;
        l.set_learning_id(StrCat(collab.id, "-", q.fy_start_year(), "-",
                                 TwoDigits(q.fy_start_year() + 1), "-q", q.number(), "-", k));
        l.set_collaborative_id(collab.id);
        l.set_topic_id(topic.id);
        l.set_month(p.month_text[t]);
        internal::FillLearning(learning_rng, topic.id, collab.region, &l);
        DemoRequest request;
        request.learning = std::move(l);
        add(t + 1, 2, learning, std::move(request));
      }
    }
  }

  Rng gaps_rng(o.seed, Stream::kGaps);
  Rng corrections_rng(o.seed, Stream::kCorrections);
  Rng resends_rng(o.seed, Stream::kResends);
  Rng& corrections_resends_rng = census.corrections_resends;
  for (int slot = 1; slot < static_cast<int>(due.size()); ++slot) {
    // Monthly returns: one submission per organisation-month, every
    // enrolled measure in it; arriving early the following month.
    const int t = slot - 1;
    for (int i = 0; t < o.months && i < static_cast<int>(p.orgs.size()); ++i) {
      const Organisation& org = p.orgs[i];
      if (!HasRows(org, t)) continue;             // not enrolled this month
      if (gaps_rng.Chance(o.gap_rate)) continue;  // the return never arrives
      add(slot, 0, returns, DemoRequest{}, i, t);

      // Corrections: some rows of a return are sent again with a changed
      // value, under a new id, after the next month's returns.
      v1::ObservationsSubmitted fix;
      for (const auto& e : org.enrolments) {
        if (!e.Covers(t) || !corrections_rng.Chance(o.correction_rate)) continue;
        v1::Observation* row = AddRow(p, values, org, e, t, &fix);
        const CorrectionDraws d = DrawCorrection(corrections_rng, row->has_denominator());
        Correct(d, *p.measures[e.measure].spec, row);
      }
      if (fix.rows_size() > 0) {
        fix.set_submission_id(StrCat(org.ods, "-", p.month_text[t], "-fix1"));
        // Resends: a client retries a submission it already sent (a lost
        // answer, a rerun job) one to three months later, byte for byte.
        if (corrections_resends_rng.Chance(o.resend_rate)) {
          const int delay = static_cast<int>(corrections_resends_rng.UniformInt(1, 3));
          add(slot + 1 + delay, 0, resent_corrections,
              DemoRequest{.observations = fix, .resend = true, .correction = true});
        }
        add(slot + 1, 1, corrections,
            DemoRequest{.observations = std::move(fix), .correction = true});
      }
      if (resends_rng.Chance(o.resend_rate)) {
        const int delay = static_cast<int>(resends_rng.UniformInt(1, 3));
        add(slot + delay, 0, resent_returns, DemoRequest{.resend = true}, i, t);
      }
    }

    std::vector<Due> arriving = std::move(due[slot]);
    std::sort(arriving.begin(), arriving.end(), [](const Due& x, const Due& y) {
      return std::tie(x.phase, x.tiebreak, x.seq) < std::tie(y.phase, y.tiebreak, y.seq);
    });
    for (Due& d : arriving) {
      // Moved out, so that a request lives only as long as the sink keeps it.
      DemoRequest request = std::move(d.request);
      if (d.org >= 0) request.observations = MakeReturn(p, values, p.orgs[d.org], d.t);
      sink(std::move(request));
    }
  }
}

}  // namespace

DemoData Generate(const DemoOptions& options) {
  Programme p = MakeProgramme(options);
  DemoData out;
  out.catalogue = WholeCatalogue(p);
  CatalogueChanges(p, [&](v1::CatalogueChanged&& change) {
    out.catalogue_changes.push_back(std::move(change));
  });
  Produce(p, [&](DemoRequest&& r) {
    if (r.observations) {
      out.rows += r.observations->rows_size();
      if (!r.resend && !r.correction) out.distinct_observations += r.observations->rows_size();
    }
    out.requests.push_back(std::move(r));
  });
  return out;
}

std::vector<v1::CatalogueChanged> DemoCatalogue(const DemoOptions& options) {
  std::vector<v1::CatalogueChanged> out;
  DemoCatalogueStream(options,
                      [&](v1::CatalogueChanged&& change) { out.push_back(std::move(change)); });
  return out;
}

void DemoCatalogueStream(const DemoOptions& options,
                         const std::function<void(v1::CatalogueChanged&&)>& sink) {
  CatalogueChanges(MakeProgramme(options), sink);
}

void GenerateStream(const DemoOptions& options, const std::function<void(DemoRequest&&)>& sink) {
  Programme p = MakeProgramme(options);
  Produce(p, sink);
}

double ExpectedRows(const DemoOptions& options) {
  const Programme p = MakeProgramme(options);
  const DemoOptions& o = p.options;
  double cells = 0;
  for (const auto& org : p.orgs) {
    for (const auto& e : org.enrolments) cells += e.to - e.from + 1;
  }
  return cells * (1 - o.gap_rate) * (1 + o.correction_rate) * (1 + o.resend_rate);
}

DemoOptions BenchOptions(uint64_t target_rows, uint64_t seed) {
  // Organisations (per collaborative) kept while the enrolment rate makes
  // up the rows, and the range of that rate.
  constexpr int kBasePerCollaborative = 140;
  constexpr double kMinEnrolRate = 0.1;
  constexpr double kMaxEnrolRate = 0.7;
  constexpr int kProbePerCollaborative = 20;
  const int collaboratives = static_cast<int>(Collaboratives().size());

  DemoOptions o;
  o.seed = seed;
  o.measure_variants = std::max<int>(1, std::lround(300.0 / double(Measures().size())));
  const double target = std::max<double>(1, double(target_rows));

  // Rows an organisation brings at the full rate, from a sample.
  DemoOptions probe = o;
  probe.organisations_per_collaborative = kProbePerCollaborative;
  probe.enrol_rate = kMaxEnrolRate;
  const double per_org = ExpectedRows(probe) / (collaboratives * kProbePerCollaborative);

  const double orgs_at_max = target / per_org;
  int per;
  if (orgs_at_max >= collaboratives * kBasePerCollaborative) {
    per = static_cast<int>(std::ceil(orgs_at_max / collaboratives));
  } else {
    const double orgs_at_min = target / (per_org * kMinEnrolRate / kMaxEnrolRate);
    per = std::clamp(static_cast<int>(orgs_at_min / collaboratives), 1, kBasePerCollaborative);
  }
  o.organisations_per_collaborative = per;

  // Rows grow about in proportion to the rate: a few steps on the real
  // catalogue settle it.
  double rate = std::min(kMaxEnrolRate, kMaxEnrolRate * target / (per_org * collaboratives * per));
  for (int step = 0; step < 6; ++step) {
    o.enrol_rate = rate;
    const double rows = ExpectedRows(o);
    if (rows <= 0 || std::abs(rows - target) <= 0.002 * target) break;
    rate = std::min(kMaxEnrolRate, rate * target / rows);
    if (rate == o.enrol_rate) break;
  }
  o.enrol_rate = rate;
  return o;
}

}  // namespace psc::demo
