#include "learning_text.h"

#include <array>
#include <string>
#include <vector>

#include "psc/domain/strings.h"

namespace psc::demo::internal {
namespace {

struct Template {
  const char* topic_id;
  v1::LearningKind kind;
  const char* title;
  const char* summary;
  const char* outcome;
  // Measures of the same topic the learning relates to (may be empty).
  std::vector<const char*> measure_ids;
};

using v1::LEARNING_KIND_CASE_STUDY;
using v1::LEARNING_KIND_INNOVATIVE_PRACTICE;
using v1::LEARNING_KIND_STORY;
using v1::LEARNING_KIND_WHAT_DID_NOT_WORK;

// Placeholders in braces are filled per item (see FillLearning).
// Numbers in the text stay small and are never joined to one another by a
// space or dash, so no run of digits can look like an NHS number.
const std::vector<Template>& Templates() {
  static const std::vector<Template> templates = {
      // Deterioration.
      {"deterioration",
       LEARNING_KIND_CASE_STUDY,
       "PDSA cycles on NEWS2 escalation in {wards} medical wards",
       "Ward teams in {region} ran {cycles} PDSA cycles over {weeks} weeks on escalating "
       "patients with a NEWS2 of 5 or more. Changes tested: a bedside escalation prompt card, a "
       "named nurse responsible for observations on each shift, and a daily review of missed "
       "escalations at the safety huddle.",
       "Escalation within 1 hour rose from {from}% to {to}% on the run chart and held for "
       "{sustain} weeks. The prompt card was adopted across the trust; the daily review became "
       "weekly once the process was reliable.",
       {"news2-escalation.v1", "news2-on-time.v1"}},
      {"deterioration",
       LEARNING_KIND_WHAT_DID_NOT_WORK,
       "Electronic alerts on every NEWS2 change led to alert fatigue",
       "An alert to the nurse in charge on every change in a patient's NEWS2 was piloted on "
       "{wards} wards for {weeks} weeks.",
       "Nurses in charge received around {alerts} alerts a shift and began dismissing them "
       "unread; escalation did not improve. The alert was narrowed to scores of 5 or more, or a "
       "rise of 3 in a single parameter, which staff found useful.",
       {"news2-escalation.v1"}},
      {"deterioration",
       LEARNING_KIND_INNOVATIVE_PRACTICE,
       "Sepsis grab bags in the emergency department",
       "Pre-packed bags holding blood culture bottles, a lactate kit, fluids and the first dose "
       "of antibiotics were stocked in resus and majors, with a sticker to record the time of "
       "the red flag.",
       "The median time to antibiotics fell from {m_from} to {m_to} minutes, and the proportion "
       "treated within 1 hour reached {to}% for the first time. Pharmacy now restocks the bags "
       "every morning.",
       {"sepsis-abx-1h.v1"}},
      {"deterioration",
       LEARNING_KIND_STORY,
       "A family member's concern as a vital sign",
       "A daughter told the ward that her father was not himself, although his observations "
       "were within range. The nurse used the call-for-concern route piloted in {region} and "
       "the outreach team reviewed him within {mins} minutes.",
       "Early sepsis was found and treated on the ward. His story is now told in deterioration "
       "training, and the ward added family concern to its handover sheet.",
       {}},
      {"deterioration",
       LEARNING_KIND_CASE_STUDY,
       "Structured handover of deteriorating patients to critical care outreach",
       "A standard SBAR handover and a shared list of deteriorating patients were introduced on "
       "{wards} wards, with the outreach team joining the morning safety huddle.",
       "Cardiac arrest calls fell over {months} months while unplanned critical care "
       "admissions stayed within their control limits: earlier review, not more transfers.",
       {"cardiac-arrest-rate.v1", "critical-care-unplanned-rate.v1"}},

      // Maternity and neonatal.
      {"maternity-neonatal",
       LEARNING_KIND_CASE_STUDY,
       "Opt-out carbon monoxide screening at booking and at 36 weeks",
       "Midwives offered carbon monoxide testing to every woman at each antenatal appointment, "
       "with an opt-out referral to the in-house tobacco dependence adviser for readings of 4 "
       "ppm or more.",
       "Referrals rose {fold}-fold and smoking at the time of delivery fell from {s_from}% to "
       "{s_to}% over {months} months.",
       {"smoking-at-delivery.v1"}},
      {"maternity-neonatal",
       LEARNING_KIND_INNOVATIVE_PRACTICE,
       "Measuring blood loss instead of estimating it on the labour ward",
       "Weighing swabs and using calibrated drapes replaced visual estimates of blood loss, with "
       "an escalation call at 1,000 ml and a team huddle at each stage of the bleed.",
       "Haemorrhages are recognised and escalated earlier. The rate of bleeds of 1,500 ml or "
       "more fell on the run chart after an apparent rise in the first months, as measurement "
       "became more accurate.",
       {"pph-1500-rate.v1"}},
      {"maternity-neonatal",
       LEARNING_KIND_WHAT_DID_NOT_WORK,
       "A magnesium sulphate reminder sticker alone did not change practice",
       "A sticker on the notes of women in preterm labour reminded staff to give magnesium "
       "sulphate before birth under 30 weeks.",
       "Uptake did not change in {weeks} weeks: most missed doses happened when labour was "
       "quick. A PReCePT midwife champion and a ready-made magnesium sulphate box in each "
       "delivery room then raised uptake to {to}%.",
       {"precept-mgso4.v1"}},
      {"maternity-neonatal",
       LEARNING_KIND_STORY,
       "Learning from a neonatal transfer with the family",
       "The parents of a baby transferred at 28 weeks joined the review of the transfer and "
       "described what they needed to know at each step.",
       "A family-held transfer leaflet and a named contact at the receiving unit were introduced "
       "across the neonatal network in {region}.",
       {}},
      {"maternity-neonatal",
       LEARNING_KIND_CASE_STUDY,
       "Maternity safety champions' monthly walkabouts",
       "Board and frontline maternity safety champions walked the unit each month and logged "
       "the concerns staff raised on a visible you-said-we-did board.",
       "Staff raised {concerns} concerns in the first {months} months and {resolved} were "
       "resolved within a month, including cover for triage at night.",
       {}},

      // Medicines safety.
      {"medicines-safety",
       LEARNING_KIND_CASE_STUDY,
       "A daily pharmacy huddle to reduce omitted critical medicines",
       "On {wards} wards the pharmacist and the nurse in charge met for ten minutes each "
       "morning to review every critical dose omitted or delayed in the last day.",
       "Omitted or delayed critical doses fell from {o_from}% to {o_to}% of doses audited, "
       "with the biggest gain in Parkinson's medicines given on time.",
       {"omitted-critical-doses.v1"}},
      {"medicines-safety",
       LEARNING_KIND_WHAT_DID_NOT_WORK,
       "Do-not-disturb tabards on drug rounds",
       "Nurses wore do-not-disturb tabards on medicine rounds for {weeks} weeks to cut "
       "interruptions.",
       "Interruptions fell at first, but rounds took longer and patients and relatives felt "
       "unable to ask questions. The tabards were dropped; protected time for the first round "
       "of the day was kept.",
       {}},
      {"medicines-safety",
       LEARNING_KIND_INNOVATIVE_PRACTICE,
       "Pharmacy technicians reconciling medicines in the emergency department",
       "Pharmacy technicians took medicine histories in the emergency department for patients "
       "being admitted, using GP records and the patient's own medicines.",
       "Medicines reconciled within 24 hours rose from {from}% to {to}%, and discrepancies are "
       "now found on admission rather than at discharge.",
       {"med-rec-24h.v1"}},
      {"medicines-safety",
       LEARNING_KIND_STORY,
       "Insulin safety in a patient's words",
       "A patient with type 1 diabetes described a delayed insulin dose during a hospital stay "
       "at a {region} learning event.",
       "Self-administration of insulin became the default for patients able to manage it, after "
       "a short assessment; her account is now part of induction for new nurses.",
       {"med-harm-rate.v1"}},
      {"medicines-safety",
       LEARNING_KIND_CASE_STUDY,
       "Safer anticoagulation at transfer of care",
       "Discharge letters gained a standard anticoagulation section, checked by pharmacy for "
       "every patient on warfarin or a DOAC.",
       "Medication incidents with harm involving anticoagulants fell over {months} months, and "
       "community pharmacies reported fewer queries.",
       {"med-harm-rate.v1"}},

      // Mental health.
      {"mental-health",
       LEARNING_KIND_CASE_STUDY,
       "Safewards interventions on {wards} acute adult wards",
       "Wards introduced Safewards interventions one at a time (calm-down methods, talk down, "
       "mutual help meetings) and reviewed each in weekly PDSA cycles.",
       "Restrictive practice fell from {r_from} to {r_to} episodes per 1,000 bed days, and "
       "the change held for {sustain} weeks.",
       {"restrictive-practice-rate.v1"}},
      {"mental-health",
       LEARNING_KIND_INNOVATIVE_PRACTICE,
       "Post-incident debriefs led by peer support workers",
       "Peer support workers offered every patient a debrief within 72 hours of restraint, "
       "alongside the staff debrief.",
       "Debriefs within 72 hours rose to {to}%, and themes from patients changed ward routines "
       "such as access to outside space in the evening.",
       {"restraint-debrief.v1"}},
      {"mental-health",
       LEARNING_KIND_WHAT_DID_NOT_WORK,
       "An extra night shift alone did not reduce restraint",
       "An additional healthcare assistant was rostered on night shifts for {weeks} weeks.",
       "Restraint at night did not fall: most episodes happened around evening medicine times. "
       "The ward moved the extra shift to the evening and reviewed its medicine round.",
       {"restrictive-practice-rate.v1"}},
      {"mental-health",
       LEARNING_KIND_STORY,
       "A patient's view of seclusion",
       "A former patient worked with the ward team to describe what made seclusion frightening "
       "and what helped.",
       "Changes designed with her, such as explaining each step and offering a choice of music, "
       "were written into the ward's seclusion procedure.",
       {}},
      {"mental-health",
       LEARNING_KIND_CASE_STUDY,
       "Reducing prone restraint with safety pods",
       "Ward staff were trained to use safety pods to support patients in a seated position "
       "when restraint could not be avoided.",
       "Prone restraint episodes fell by {pct}% over {months} months with no rise in staff "
       "injuries.",
       {"prone-restraint.v1"}},

      // Falls.
      {"falls",
       LEARNING_KIND_CASE_STUDY,
       "Lying and standing blood pressure for every older inpatient",
       "Healthcare assistants on {wards} wards were trained to measure lying and standing blood "
       "pressure, with a prompt in the electronic observations chart for patients aged 65 and "
       "over.",
       "Recording rose from {from}% to {to}%. Postural hypotension, found in about one patient "
       "in {one_in}, led to medication reviews.",
       {"lying-standing-bp.v1", "falls-harm-rate.v1"}},
      {"falls",
       LEARNING_KIND_WHAT_DID_NOT_WORK,
       "Bed and chair sensor alarms on a frailty ward",
       "Sensor alarms were used for every patient judged at high risk of falling for {weeks} "
       "weeks.",
       "Falls did not come down: the alarm sounded once the patient was already up, and the "
       "noise disturbed others at night. Cohorting high-risk patients in a bay with a member "
       "of staff always present worked better.",
       {"falls-count.v1"}},
      {"falls",
       LEARNING_KIND_INNOVATIVE_PRACTICE,
       "Multifactorial falls assessment built into admission",
       "A multifactorial assessment (medicines, continence, cognition, footwear and eyesight) "
       "replaced the falls risk score in the admission document.",
       "Assessments within 24 hours rose from {from}% to {to}%, and falls with harm fell on the "
       "run chart over {months} months.",
       {"falls-mfra.v1", "falls-harm-rate.v1"}},
      {"falls",
       LEARNING_KIND_STORY,
       "Get up, get dressed, get moving on a community ward",
       "Patients and families were invited to bring day clothes and shoes, and therapists led a "
       "short group exercise session every day.",
       "Patients said they felt more like themselves. Falls on the ward fell over the following "
       "months and stays became shorter.",
       {"falls-count.v1"}},
      {"falls",
       LEARNING_KIND_CASE_STUDY,
       "Post-fall huddles within 24 hours",
       "After every inpatient fall the team held a short huddle at the bedside to ask what was "
       "different this time.",
       "Themes such as toileting at night and unfamiliar footwear led to {k} changes in ward "
       "routines; falls with harm fell by {pct}% over {months} months.",
       {"falls-harm-rate.v1", "falls-count.v1"}},

      // Safety culture and leadership.
      {"safety-culture",
       LEARNING_KIND_CASE_STUDY,
       "Daily safety huddles across {wards} divisions",
       "Teams held a ten-minute huddle at the start of each day on patients at risk, staffing "
       "and yesterday's learning, around a simple visual board.",
       "Teams holding a daily huddle rose from {from}% to {to}%. Incident reporting rose too, "
       "which the teams read as a more open culture.",
       {"safety-huddles.v1", "incident-reporting-rate.v1"}},
      {"safety-culture",
       LEARNING_KIND_INNOVATIVE_PRACTICE,
       "Human factors training in situ",
       "Short simulations on the wards replaced classroom sessions, each with a debrief about "
       "systems rather than individuals.",
       "{staff} staff were trained in {months} months, twice the rate of the classroom course, "
       "and staff survey scores for speaking up improved.",
       {"safety-culture-trained.v1"}},
      {"safety-culture",
       LEARNING_KIND_WHAT_DID_NOT_WORK,
       "A monthly safety newsletter did not reach frontline staff",
       "Learning from incidents was shared in a monthly email newsletter.",
       "Fewer than one in {one_in} staff opened it. Learning is now shared at huddles and on a "
       "single-page poster in staff rooms, which staff say they read.",
       {}},
      {"safety-culture",
       LEARNING_KIND_STORY,
       "Speaking up in theatre",
       "A newly qualified theatre practitioner described stopping a procedure when a swab count "
       "did not match, and how the team responded.",
       "The team thanked her at the next safety briefing, and her story now opens the speaking "
       "up training in {region}.",
       {}},
      {"safety-culture",
       LEARNING_KIND_CASE_STUDY,
       "Safety culture survey followed by team conversations",
       "Teams used the results of a validated safety culture survey to hold facilitated "
       "conversations about what to change first.",
       "Each team chose one change to test; {better} of the {teams} teams improved their "
       "scores in the follow-up survey after {months} months.",
       {}},
  };
  return templates;
}

std::string Word(int64_t n) {
  static constexpr std::array<const char*, 7> kWords = {"zero", "one",  "two", "three",
                                                        "four", "five", "six"};
  return n >= 0 && n < static_cast<int64_t>(kWords.size()) ? kWords[n] : StrCat(n);
}

// Replaces every `{name}` with its value.
std::string Fill(std::string_view text,
                 const std::vector<std::pair<std::string_view, std::string>>& values) {
  std::string out;
  out.reserve(text.size() + 32);
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      const size_t close = text.find('}', i);
      if (close != std::string_view::npos) {
        const std::string_view name = text.substr(i + 1, close - i - 1);
        bool found = false;
        for (const auto& [key, value] : values) {
          if (key == name) {
            out += value;
            found = true;
            break;
          }
        }
        if (found) {
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace

void FillLearning(Rng& rng, std::string_view topic_id, std::string_view region, v1::Learning* out) {
  std::vector<const Template*> choices;
  for (const auto& t : Templates()) {
    if (t.topic_id == topic_id) choices.push_back(&t);
  }
  // Every figure is drawn for every item, used or not, so each item takes
  // the same number of draws whatever its template.
  const int64_t from = rng.UniformInt(38, 68);
  const int64_t to = std::min<int64_t>(97, from + rng.UniformInt(10, 25));
  const int64_t teams = rng.UniformInt(12, 40);
  const int64_t better = teams * rng.UniformInt(50, 85) / 100;
  const int64_t concerns = rng.UniformInt(20, 60);
  const int64_t resolved = concerns * rng.UniformInt(50, 85) / 100;
  const std::vector<std::pair<std::string_view, std::string>> values = {
      {"region", std::string(region)},
      {"wards", Word(rng.UniformInt(2, 6))},
      {"cycles", StrCat(rng.UniformInt(3, 8))},
      {"weeks", StrCat(rng.UniformInt(6, 16))},
      {"months", StrCat(rng.UniformInt(3, 9))},
      {"sustain", StrCat(rng.UniformInt(8, 20))},
      {"from", StrCat(from)},
      {"to", StrCat(to)},
      {"alerts", StrCat(rng.UniformInt(20, 45))},
      {"m_from", StrCat(rng.UniformInt(75, 130))},
      {"m_to", StrCat(rng.UniformInt(35, 60))},
      {"mins", StrCat(rng.UniformInt(12, 30))},
      {"fold", Word(rng.UniformInt(2, 4))},
      {"s_from", StrCat(rng.UniformInt(10, 15))},
      {"s_to", StrCat(rng.UniformInt(6, 9))},
      {"o_from", StrCat(rng.UniformInt(9, 16))},
      {"o_to", StrCat(rng.UniformInt(3, 7))},
      {"r_from", StrCat(rng.UniformInt(18, 30))},
      {"r_to", StrCat(rng.UniformInt(9, 16))},
      {"pct", StrCat(rng.UniformInt(15, 40))},
      {"one_in", Word(rng.UniformInt(4, 6))},
      {"k", StrCat(rng.UniformInt(3, 9))},
      {"teams", StrCat(teams)},
      {"better", StrCat(better)},
      {"staff", StrCat(rng.UniformInt(200, 900))},
      {"concerns", StrCat(concerns)},
      {"resolved", StrCat(resolved)},
  };
  const bool link = rng.Chance(0.75);
  if (choices.empty()) {
    // A topic without templates: a plain case study, unlinked.
    out->set_kind(LEARNING_KIND_CASE_STUDY);
    out->set_title(StrCat("Improvement work on ", topic_id, " in ", region));
    return;
  }
  const Template& t =
      *choices[static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(choices.size()) - 1))];
  out->set_kind(t.kind);
  out->set_title(Fill(t.title, values));
  out->set_summary(Fill(t.summary, values));
  out->set_outcome(Fill(t.outcome, values));
  if (link) {
    for (const char* id : t.measure_ids) out->add_measure_ids(id);
  }
}

}  // namespace psc::demo::internal
