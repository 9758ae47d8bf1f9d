// psc: the command-line client of psc-aggregate.
//
//   psc catalogue load FILE.json     register reference data (a CatalogueChanged in JSON)
//   psc catalogue show               print the catalogue as JSON
//   psc submit --csv FILE.csv        submit a monthly return (CSV)
//   psc withdraw --reason TEXT ORG MEASURE MONTH...   withdraw stored values
//   psc history ORG MEASURE MONTH    every change of one stored value
//   psc outstanding --month M        returns still missing for a month
//   psc report [--quarter Q] [--format text|json|csv|html] [--output FILE]
//                                    the quarterly national aggregate
//   psc series --measure ID          a monthly series
//   psc receipt ID                   the receipt of a request id
//   psc publish --quarter Q          freeze and publish a quarter's report
//   psc published --quarter Q        the published bytes, revisions since
//   psc signoff --quarter Q --collaborative C   a collaborative signs off its quarter
//   psc limits --measure ID --reason TEXT [--rebase-month M] [--fix-after N]
//                                    rebase or fix the limits of a series' SPC chart
//   psc status                       how far the read model has applied the log
//   psc health [--service NAME]      grpc.health.v1 check: exit 0 when SERVING
//   psc demo                         load the demo dataset and print the report
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <iostream>
#include <sstream>

#include "client.h"
#include "demo_load.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "psc/domain/clock.h"
#include "psc/domain/number_format.h"
#include "psc/domain/observation_csv.h"
#include "psc/domain/strings.h"
#include "psc/domain/validation.h"
#include "psc/domain/violations.h"
#include "psc/server/flags.h"

namespace psc::cli {
namespace {

constexpr char kUsage[] =
    "usage: psc COMMAND [flags]\n"
    "commands:\n"
    "  catalogue load FILE.json   register reference data (a psc.v1.CatalogueChanged as JSON)\n"
    "  catalogue show             print the catalogue as JSON\n"
    "  submit --csv FILE.csv      submit a monthly return (org_code,measure_id,month,numerator,denominator)\n"
    "  withdraw --reason TEXT ORG MEASURE MONTH...  withdraw stored values\n"
    "  history ORG MEASURE MONTH  every change of one stored value\n"
    "  erase --reason TEXT ID     erase a learning's text (UK GDPR); it keeps counting\n"
    "  outstanding --month M      returns still missing for a month, per collaborative\n"
    "  report                     the quarterly national aggregate (--quarter, --format, --output)\n"
    "  series                     monthly series of a measure (--measure, --collaborative | --org)\n"
    "  receipt ID                 the receipt of a submission, learning or catalogue change id\n"
    "  publish --quarter Q        freeze the quarter's report and publish it\n"
    "  published --quarter Q      the published bytes; revisions since on stderr\n"
    "  signoff --quarter Q --collaborative C  a collaborative signs off its figures\n"
    "  limits --measure ID --reason TEXT  rebase (--rebase-month) or fix (--fix-after N) SPC limits\n"
    "  status                     how far the read model has applied the log\n"
    "  audit                      who did what, when (national role; --principal, --after, --limit)\n"
    "  health [--service NAME]    gRPC health check: prints the status, exits 0 only when SERVING\n"
    "  demo                       load the demo dataset, then print the report\n"
    "every command takes --server HOST:PORT (default 127.0.0.1:50051); --help for its flags\n"
    "servers under an access policy: --tls-ca FILE, and --tls-cert FILE --tls-key FILE\n"
    "(a client certificate) or a bearer token in the environment variable PSC_TOKEN\n";


// A request id derived from what is sent, so sending the same thing again
// is recognised as a repeat: `prefix` + 16 hex digits of FNV-1a.
std::string ContentId(std::string_view prefix, std::string_view content) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : content) hash = (hash ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return StrCat(prefix, hex);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int FailCall(const grpc::Status& status,
             const std::function<std::string(const std::string&)>& rename = nullptr) {
  std::cerr << "psc: " << Describe(status, rename) << "\n";
  return 1;
}

int Fail(std::string_view message) {
  std::cerr << "psc: " << message << "\n";
  return 1;
}

int Fail(const absl::Status& status) { return Fail(std::string(status.message())); }

// The TLS files named by the flags, and the bearer token from PSC_TOKEN
// (never a flag: command lines are visible to every user of the machine).
absl::StatusOr<Credentials> CredentialsFrom(const server::Flags& flags) {
  Credentials credentials;
  const char* token = std::getenv("PSC_TOKEN");
  if (token != nullptr) credentials.token = token;
  if (flags.Get("tls-ca").empty()) {
    if (!flags.Get("tls-cert").empty() || !credentials.token.empty()) {
      return absl::InvalidArgumentError(
          "a client certificate or PSC_TOKEN needs --tls-ca: credentials go over TLS only");
    }
    return credentials;
  }
  for (auto [flag, field] : {std::pair{"tls-ca", &credentials.ca},
                             std::pair{"tls-cert", &credentials.certificate},
                             std::pair{"tls-key", &credentials.key}}) {
    if (flags.Get(flag).empty()) continue;
    auto text = ReadFile(flags.Get(flag));
    if (!text.ok()) return absl::InvalidArgumentError(StrCat("--", flag, ": ", text.status().message()));
    *field = std::move(*text);
  }
  if (credentials.certificate.empty() != credentials.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  return credentials;
}

std::string FormatReceipt(const v1::Receipt& r) {
  if (r.dry_run() && !r.duplicate()) {
    return StrCat(r.id(), ": dry run: ", r.rows_accepted(), " rows valid, nothing sent");
  }
  return StrCat(r.id(), ": position ", r.position(), ", ", r.rows_accepted(), " rows",
                r.duplicate() ? " (already on the log: original receipt)" : "",
                r.dry_run() ? " (dry run)" : "");
}

int CmdCatalogue(Client& client, server::Flags& flags) {
  const auto& args = flags.positional();
  if (args.size() == 2 && args[1] == "show") {
    v1::Catalogue catalogue;
    auto status = client.catalog->GetCatalogue(Context().get(), v1::GetCatalogueRequest(), &catalogue);
    if (!status.ok()) return FailCall(status);
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(catalogue, &json, options);
    std::cout << json;
    return 0;
  }
  if (args.size() != 3 || args[1] != "load") return Fail("usage: psc catalogue load FILE.json | psc catalogue show");
  auto text = ReadFile(args[2]);
  if (!text.ok()) return Fail(text.status());
  v1::ChangeCatalogueRequest request;
  auto parsed = google::protobuf::util::JsonStringToMessage(*text, request.mutable_change());
  if (!parsed.ok()) return Fail(StrCat(args[2], ": not a catalogue change: ", parsed.message().as_string()));
  v1::Receipt receipt;
  auto status = client.catalog->ChangeCatalogue(Context().get(), request, &receipt);
  if (!status.ok()) return FailCall(status);
  std::cout << FormatReceipt(receipt) << "\n";
  return 0;
}

// Submits a CSV file. Files above one request's bound go in several
// requests; the whole file is first checked against the catalogue the
// service holds, so a bad row refuses the file before anything is sent.
// Request ids derive from the file's content: sending the same file again
// changes nothing.
int CmdSubmit(Client& client, server::Flags& flags) {
  std::string path = flags.Get("csv");
  if (path.empty() && flags.positional().size() == 2) path = flags.positional()[1];
  if (path.empty() || flags.positional().size() > 2) {
    return Fail("usage: psc submit --csv FILE.csv [--submission-id ID]");
  }
  std::vector<std::string> args = {"submit", path};
  auto text = ReadFile(path);
  if (!text.ok()) return Fail(text.status());
  auto csv = ParseObservationCsv(*text);
  if (!csv.ok()) {
    std::string out = StrCat(args[1], ": ", csv.status().message());
    for (const auto& v : FieldViolationsOf(csv.status())) StrAppend(&out, "\n  ", v.field, ": ", v.description);
    return Fail(out);
  }
  v1::Catalogue catalogue_proto;
  auto status = client.catalog->GetCatalogue(Context().get(), v1::GetCatalogueRequest(), &catalogue_proto);
  if (!status.ok()) return FailCall(status);
  Catalogue catalogue;
  v1::CatalogueChanged as_change;
  *as_change.mutable_topics() = catalogue_proto.topics();
  *as_change.mutable_collaboratives() = catalogue_proto.collaboratives();
  *as_change.mutable_organisations() = catalogue_proto.organisations();
  *as_change.mutable_measures() = catalogue_proto.measures();
  *as_change.mutable_enrolments() = catalogue_proto.enrolments();
  *as_change.mutable_memberships() = catalogue_proto.memberships();
  catalogue.Apply(as_change);

  const size_t chunk = SubmissionLimits().max_rows;
  std::string base = flags.Get("submission-id");
  if (base.empty()) base = ContentId("csv-", *text);
  const size_t total = csv->rows.size();
  const size_t requests = (total + chunk - 1) / chunk;
  std::vector<v1::SubmitObservationsRequest> batches(requests);
  for (size_t k = 0; k < requests; ++k) {
    batches[k].set_submission_id(requests == 1 ? base : StrCat(base, "-", k + 1));
    for (size_t i = k * chunk; i < std::min(total, (k + 1) * chunk); ++i) {
      *batches[k].add_rows() = csv->rows[i];
    }
  }
  // Lines of each request's rows, for naming a refused row by its line.
  auto rename_for = [&](size_t k) {
    return [&, k](const std::string& field) {
      std::vector<int> lines(csv->lines.begin() + static_cast<long>(k * chunk),
                             csv->lines.begin() + static_cast<long>(std::min(total, (k + 1) * chunk)));
      return CsvFieldOf(field, lines);
    };
  };
  const Month current = LondonMonth(SystemClock::Instance().Now());
  for (size_t k = 0; k < requests; ++k) {
    v1::ObservationsSubmitted check;
    *check.mutable_rows() = batches[k].rows();
    check.set_submission_id(batches[k].submission_id());
    if (auto s = ValidateObservations(catalogue, check, 0, current); !s.ok()) {
      std::string out = StrCat(args[1], ": refused, nothing sent: ", s.message());
      for (const auto& v : FieldViolationsOf(s)) {
        StrAppend(&out, "\n  ", rename_for(k)(v.field), ": ", v.description, " [", v.reason, "]");
      }
      return Fail(out);
    }
  }
  const bool dry_run = flags.GetBool("dry-run");
  size_t sent = 0;
  for (size_t k = 0; k < requests; ++k) {
    batches[k].set_dry_run(dry_run);
    v1::Receipt receipt;
    status = client.ingest->SubmitObservations(Context().get(), batches[k], &receipt);
    if (!status.ok()) return FailCall(status, rename_for(k));
    sent += static_cast<size_t>(batches[k].rows_size());
    if (requests > 1) {
      std::cerr << "submit: " << Grouped(sent) << " / " << Grouped(total) << " rows ("
                << (100 * sent / total) << "%)\n";
    }
    std::cout << FormatReceipt(receipt) << "\n";
  }
  return 0;
}

// psc withdraw --reason TEXT ORG MEASURE MONTH [ORG MEASURE MONTH ...]
int CmdWithdraw(Client& client, server::Flags& flags) {
  const auto& args = flags.positional();
  if (args.size() < 4 || (args.size() - 1) % 3 != 0) {
    return Fail("usage: psc withdraw --reason TEXT ORG MEASURE MONTH [ORG MEASURE MONTH ...]");
  }
  v1::WithdrawObservationsRequest request;
  request.set_reason(flags.Get("reason"));
  std::string joined;
  for (size_t i = 1; i < args.size(); i += 3) {
    auto* key = request.add_keys();
    key->set_ods_code(args[i]);
    key->set_measure_id(args[i + 1]);
    key->set_month(args[i + 2]);
    StrAppend(&joined, args[i], "/", args[i + 1], "/", args[i + 2], ";");
  }
  std::string id = flags.Get("withdrawal-id");
  if (id.empty()) id = ContentId("withdraw-", joined + request.reason());
  request.set_withdrawal_id(id);
  v1::Receipt receipt;
  auto status = client.ingest->WithdrawObservations(Context().get(), request, &receipt);
  if (!status.ok()) return FailCall(status);
  std::cout << FormatReceipt(receipt) << "\n";
  return 0;
}

// psc erase --reason TEXT LEARNING_ID: the learning's text is destroyed
// (its key), the learning keeps counting.
int CmdErase(Client& client, server::Flags& flags) {
  const auto& args = flags.positional();
  if (args.size() != 2) return Fail("usage: psc erase --reason TEXT LEARNING_ID");
  v1::EraseLearningRequest request;
  request.set_learning_id(args[1]);
  request.set_reason(flags.Get("reason"));
  std::string id = flags.Get("erasure-id");
  if (id.empty()) id = ContentId("erase-", args[1] + "\n" + request.reason());
  request.set_erasure_id(id);
  v1::Receipt receipt;
  auto status = client.ingest->EraseLearning(Context().get(), request, &receipt);
  if (!status.ok()) return FailCall(status);
  std::cout << FormatReceipt(receipt) << "\n";
  return 0;
}

// psc history ORG MEASURE MONTH
int CmdHistory(Client& client, server::Flags& flags) {
  const auto& args = flags.positional();
  if (args.size() != 4) return Fail("usage: psc history ORG MEASURE MONTH");
  v1::GetValueHistoryRequest request;
  request.mutable_key()->set_ods_code(args[1]);
  request.mutable_key()->set_measure_id(args[2]);
  request.mutable_key()->set_month(args[3]);
  v1::ValueHistory history;
  auto status = client.query->GetValueHistory(Context().get(), request, &history);
  if (!status.ok()) return FailCall(status);
  if (history.changes_size() == 0) std::cout << "no value has been submitted\n";
  for (const auto& c : history.changes()) {
    std::string value = c.has_denominator() ? StrCat(c.numerator(), "/", c.denominator())
                                            : std::to_string(c.numerator());
    std::string previous = !c.has_previous_numerator() ? std::string("none")
                           : c.has_previous_denominator()
                               ? StrCat(c.previous_numerator(), "/", c.previous_denominator())
                               : std::to_string(c.previous_numerator());
    std::cout << "position " << c.position() << "  " << c.principal() << "  " << c.request_id()
              << "  "
              << (c.kind() == v1::VALUE_CHANGE_KIND_WITHDRAWN
                      ? StrCat("withdrew ", previous, " (", c.reason(), ")")
                      : StrCat("set ", value, " (was ", previous, ")"))
              << "\n";
  }
  return 0;
}

int CmdOutstanding(Client& client, server::Flags& flags) {
  v1::ListOutstandingReturnsRequest request;
  request.set_month(flags.Get("month"));
  request.set_collaborative_id(flags.Get("collaborative"));
  v1::OutstandingReturns out;
  auto status = client.query->ListOutstandingReturns(Context().get(), request, &out);
  if (!status.ok()) return FailCall(status);
  std::cout << "Returns for " << out.month() << " (log position " << out.as_of_position()
            << ")\n";
  for (const auto& c : out.collaboratives()) {
    char line[200];
    std::snprintf(line, sizeof line, "%s: %lld of %lld returns (%.1f%%), %lld on time\n",
                  c.collaborative_id().c_str(), static_cast<long long>(c.reported()),
                  static_cast<long long>(c.expected()),
                  c.expected() > 0 ? 100.0 * static_cast<double>(c.reported()) /
                                         static_cast<double>(c.expected())
                                   : 0.0,
                  static_cast<long long>(c.on_time()));
    std::cout << line;
    for (const auto& o : c.outstanding()) {
      std::cout << "  " << o.ods_code() << " " << o.name() << ": missing";
      for (const auto& m : o.measure_ids()) std::cout << " " << m;
      std::cout << "\n";
    }
  }
  return 0;
}

int CmdPublish(Client& client, server::Flags& flags) {
  v1::PublishQuarterRequest request;
  request.set_quarter(flags.Get("quarter"));
  request.set_public_(flags.GetBool("public"));
  std::string id = flags.Get("publication-id");
  if (id.empty()) {
    id = (request.public_() ? "publish-public-" : "publish-") + request.quarter();
    for (char& c : id) {
      if (c == '/' || c == ' ') c = '-';
    }
  }
  request.set_publication_id(id);
  v1::Receipt receipt;
  auto status = client.publication->PublishQuarter(Context().get(), request, &receipt);
  if (!status.ok()) return FailCall(status);
  std::cout << FormatReceipt(receipt) << "\n";
  return 0;
}

// The default sign-off id is a hash of the quarter, the collaborative and
// its figures as the report shows them now: the same command again changes
// nothing, while a sign-off after the figures changed is a new one.
int CmdSignOff(Client& client, server::Flags& flags) {
  v1::SignOffQuarterRequest request;
  request.set_quarter(flags.Get("quarter"));
  request.set_collaborative_id(flags.Get("collaborative"));
  std::string id = flags.Get("sign-off-id");
  if (id.empty()) {
    v1::GetQuarterlyReportRequest get;
    get.set_quarter(request.quarter());
    v1::GetQuarterlyReportResponse response;
    auto call = client.query->GetQuarterlyReport(Context().get(), get, &response);
    if (!call.ok()) return FailCall(call);
    std::string content = StrCat(request.quarter(), "\n", request.collaborative_id(), "\n");
    for (const auto& type : response.report().types()) {
      for (const auto& topic : type.topics()) {
        for (const auto& m : topic.measures()) {
          for (const auto& area : m.collaboratives()) {
            if (area.collaborative_id() != request.collaborative_id()) continue;
            StrAppend(&content, m.measure().id(), "\n", area.figure().SerializeAsString(), "\n");
          }
        }
      }
    }
    id = ContentId("signoff-", content);
    request.set_min_position(response.report().as_of_position());
  }
  request.set_sign_off_id(id);
  v1::Receipt receipt;
  auto status = client.publication->SignOffQuarter(Context().get(), request, &receipt);
  if (!status.ok()) return FailCall(status);
  std::cout << FormatReceipt(receipt) << "\n";
  return 0;
}

int CmdLimits(Client& client, server::Flags& flags) {
  v1::ChangeSpcLimitsRequest request;
  v1::SpcLimitsChanged* change = request.mutable_change();
  change->set_measure_id(flags.Get("measure"));
  if (!flags.Get("collaborative").empty()) change->set_collaborative_id(flags.Get("collaborative"));
  if (!flags.Get("org").empty()) change->set_ods_code(flags.Get("org"));
  change->set_rebase_month(flags.Get("rebase-month"));
  auto fix = flags.GetInt("fix-after");
  if (!fix.ok()) return Fail(fix.status());
  change->set_fix_after_points(static_cast<int32_t>(*fix));
  change->set_reason(flags.Get("reason"));
  std::string id = flags.Get("change-id");
  if (id.empty()) id = ContentId("limits-", change->SerializeAsString());
  change->set_change_id(id);
  v1::Receipt receipt;
  auto status = client.catalog->ChangeSpcLimits(Context().get(), request, &receipt);
  if (!status.ok()) return FailCall(status);
  std::cout << FormatReceipt(receipt) << "\n";
  return 0;
}

// Prints the published bytes exactly on stdout; hash and revisions on
// stderr.
int CmdPublished(Client& client, server::Flags& flags) {
  v1::GetPublicationRequest request;
  request.set_quarter(flags.Get("quarter"));
  v1::Publication publication;
  auto status = client.publication->GetPublication(Context().get(), request, &publication);
  if (!status.ok()) return FailCall(status);
  const std::string& format = flags.Get("format");
  const char* wanted = format == "json"   ? "application/json"
                       : format == "csv"  ? "text/csv"
                       : format == "html" ? "text/html"
                                          : "text/plain";
  for (const auto& r : publication.published().renderings()) {
    if (r.content_type().rfind(wanted, 0) != 0) continue;
    std::cout << r.bytes();
    std::cerr << "published at log position " << publication.position() << " (report as of "
              << publication.published().as_of_position() << "), sha256 " << r.sha256() << "\n";
  }
  if (publication.revisions_size() == 0) {
    std::cerr << "no revisions since publication (read model at position "
              << publication.as_of_position() << ")\n";
  } else {
    std::cerr << publication.revisions_size() << " revisions since publication (read model at "
              << "position " << publication.as_of_position() << "):\n";
    for (const auto& r : publication.revisions()) {
      auto show = [](bool has, double v) {
        char buf[64];
        if (!has) return std::string("none");
        std::snprintf(buf, sizeof buf, "%.4f", v);
        return std::string(buf);
      };
      std::cerr << "  " << r.measure_id() << " " << r.area() << " " << r.field() << ": "
                << show(r.has_published(), r.published()) << " -> "
                << show(r.has_current(), r.current()) << "\n";
    }
  }
  return 0;
}

// Written beside the target and renamed over it, so a reader never sees
// half a file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string partial = StrCat(path, ".partial");
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << bytes;
    out.close();
    if (!out) return absl::UnavailableError(StrCat("cannot write ", partial));
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    return absl::UnavailableError(StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

int CmdReport(Client& client, server::Flags& flags) {
  v1::GetQuarterlyReportRequest request;
  request.set_quarter(flags.Get("quarter"));
  const std::string& format = flags.Get("format");
  if (format == "text") request.set_format(v1::REPORT_FORMAT_TEXT);
  else if (format == "json") request.set_format(v1::REPORT_FORMAT_JSON);
  else if (format == "csv") request.set_format(v1::REPORT_FORMAT_CSV);
  else if (format == "html") request.set_format(v1::REPORT_FORMAT_HTML);
  else return Fail(StrCat("--format must be text, json, csv or html, not ", Quote(format)));
  auto min = flags.GetInt("min-position");
  if (!min.ok()) return Fail(min.status());
  request.set_min_position(static_cast<uint64_t>(*min));
  v1::GetQuarterlyReportResponse response;
  auto status = client.query->GetQuarterlyReport(Context().get(), request, &response);
  if (!status.ok()) return FailCall(status);
  const std::string& output = flags.Get("output");
  if (output.empty()) {
    std::cout << response.rendered();
    return 0;
  }
  if (auto written = WriteFileAtomically(output, response.rendered()); !written.ok()) {
    return Fail(written);
  }
  std::cerr << "psc: wrote " << Grouped(response.rendered().size()) << " bytes ("
            << response.content_type() << ") to " << output << "\n";
  return 0;
}

int CmdSeries(Client& client, server::Flags& flags) {
  v1::GetSeriesRequest request;
  request.set_measure_id(flags.Get("measure"));
  if (!flags.Get("collaborative").empty()) request.set_collaborative_id(flags.Get("collaborative"));
  if (!flags.Get("org").empty()) request.set_ods_code(flags.Get("org"));
  request.set_from_month(flags.Get("from"));
  request.set_to_month(flags.Get("to"));
  v1::Series series;
  auto status = client.query->GetSeries(Context().get(), request, &series);
  if (!status.ok()) return FailCall(status);
  std::cout << series.measure().name() << " (" << series.measure().id() << ")\n";
  for (const auto& p : series.points()) {
    std::cout << p.month() << "  ";
    if (p.figure().has_value()) {
      char v[32];
      std::snprintf(v, sizeof v, "%12.3f", p.figure().value());
      std::cout << v;
    } else {
      std::cout << "     no data";
    }
    std::cout << "  " << p.figure().numerator() << "/" << p.figure().denominator() << "  reported "
              << p.figure().coverage().reported() << "/" << p.figure().coverage().expected() << "\n";
  }
  return 0;
}

int CmdReceipt(Client& client, server::Flags& flags) {
  if (flags.positional().size() != 2) return Fail("usage: psc receipt ID");
  v1::GetReceiptRequest request;
  request.set_id(flags.positional()[1]);
  v1::Receipt receipt;
  auto status = client.query->GetReceipt(Context().get(), request, &receipt);
  if (!status.ok()) return FailCall(status);
  std::cout << FormatReceipt(receipt) << "\n";
  return 0;
}

// The audit trail, one event per line: position, time, principal, action,
// request id, rows.
int CmdAudit(Client& client, server::Flags& flags) {
  auto after = flags.GetInt("after");
  auto limit = flags.GetInt("limit");
  if (!after.ok() || *after < 0) return Fail("--after must be a log position (0: the start)");
  if (!limit.ok() || *limit < 1) return Fail("--limit must be a positive number");
  v1::ListAuditRequest request;
  request.set_after_position(static_cast<uint64_t>(*after));
  request.set_limit(static_cast<uint32_t>(*limit));
  request.set_principal(flags.Get("principal"));
  v1::AuditTrail trail;
  auto status = client.query->ListAudit(Context().get(), request, &trail);
  if (!status.ok()) return FailCall(status);
  for (const auto& e : trail.entries()) {
    std::cout << e.position() << "\t" << google::protobuf::util::TimeUtil::ToString(e.recorded_at()) << "\t" << e.principal()
              << "\t" << e.action() << "\t" << e.request_id() << "\t" << e.rows() << "\n";
  }
  if (trail.next_after_position() != 0) {
    std::cerr << "more: --after " << trail.next_after_position() << "\n";
  }
  return 0;
}

int CmdStatus(Client& client, server::Flags&) {
  v1::ProjectionStatus status_message;
  auto status = client.query->GetStatus(Context().get(), v1::GetStatusRequest(), &status_message);
  if (!status.ok()) return FailCall(status);
  std::cout << "applied position " << status_message.applied_position() << ", "
            << Grouped(status_message.observations()) << " observations, "
            << status_message.refused_events() << " refused events\n";
  return 0;
}

// grpc.health.v1.Health/Check, for container and orchestrator health checks
// (the images carry no other probe). Prints the serving status; exits 0 only
// when it is SERVING, 1 for any other status or when the call fails.
int CmdHealth(Client& client, server::Flags& flags) {
  if (flags.positional().size() != 1) return Fail("usage: psc health [--service NAME] [--timeout SECONDS]");
  auto timeout = flags.GetInt("timeout");
  if (!timeout.ok() || *timeout < 1) return Fail("--timeout must be a positive number of seconds");
  auto health = grpc::health::v1::Health::NewStub(client.channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(flags.Get("service"));
  grpc::health::v1::HealthCheckResponse response;
  auto status = health->Check(Context(static_cast<int>(*timeout)).get(), request, &response);
  const std::string what =
      request.service().empty() ? flags.Get("server")
                                : StrCat("service ", request.service(), " at ", flags.Get("server"));
  if (!status.ok()) {
    return Fail(StrCat("health check of ", what, " failed: ", Describe(status)));
  }
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status())
            << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

// What happens to a quarter after its returns are in, as the demo plays it:
// three collaboratives sign off, the national team publishes, a late
// correction arrives from a signed-off collaborative (so the report shows
// revisions since sign-off and since publication), and an analyst rebases
// one chart where the audit method changed. Returns the last position.
absl::StatusOr<uint64_t> DemoQuarterLife(Client& client, const demo::DemoData& data,
                                         const std::string& quarter_text, uint64_t position) {
  auto quarter = Quarter::Parse(quarter_text);
  if (!quarter) return absl::InvalidArgumentError(StrCat("--quarter: ", Quote(quarter_text)));
  auto check = [](const grpc::Status& s, const char* what) {
    return s.ok() ? absl::OkStatus()
                  : absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                                 StrCat(what, ": ", s.error_message()));
  };
  std::string quarter_id = quarter_text;
  for (char& c : quarter_id) {
    if (c == '/' || c == ' ') c = '-';
  }
  const std::vector<std::string> signing = {"wessex", "oxford", "south-west"};
  for (const std::string& collaborative : signing) {
    v1::SignOffQuarterRequest request;
    request.set_sign_off_id(StrCat("demo-signoff-", collaborative, "-", quarter_id));
    request.set_quarter(quarter_text);
    request.set_collaborative_id(collaborative);
    request.set_min_position(position);
    v1::Receipt receipt;
    if (auto s = check(client.publication->SignOffQuarter(Context().get(), request, &receipt),
                       "sign-off");
        !s.ok()) {
      return s;
    }
    position = std::max(position, receipt.position());
    std::cerr << "demo: " << collaborative << " signed off " << quarter_text << " ("
              << FormatReceipt(receipt) << ")\n";
  }
  v1::PublishQuarterRequest publish;
  publish.set_publication_id(StrCat("demo-publish-", quarter_id));
  publish.set_quarter(quarter_text);
  publish.set_min_position(position);
  v1::Receipt published;
  if (auto s = check(client.publication->PublishQuarter(Context().get(), publish, &published),
                     "publish");
      !s.ok()) {
    return s;
  }
  position = std::max(position, published.position());
  std::cerr << "demo: published " << quarter_text << " (" << FormatReceipt(published) << ")\n";

  // The late correction: the quarter's last month from the first Wessex
  // organisation's last return, every value moved by one.
  std::map<std::string, std::string> collaborative_of;
  for (const auto& o : data.catalogue.organisations()) collaborative_of[o.ods_code()] = o.collaborative_id();
  std::map<std::string, const v1::Measure*> measures;
  for (const auto& m : data.catalogue.measures()) measures[m.id()] = &m;
  const std::string last_month = quarter->LastMonth().ToString();
  v1::SubmitObservationsRequest late;
  for (auto it = data.requests.rbegin(); it != data.requests.rend() && late.rows_size() == 0;
       ++it) {
    if (!it->observations) continue;
    for (const v1::Observation& row : it->observations->rows()) {
      if (row.month() != last_month || collaborative_of[row.ods_code()] != signing.front()) continue;
      if (late.rows_size() > 0 && late.rows(0).ods_code() != row.ods_code()) continue;
      v1::Observation fixed = row;
      const v1::Measure* m = measures[row.measure_id()];
      if (m != nullptr && m->unit() == v1::UNIT_PROPORTION && row.numerator() >= row.denominator()) {
        fixed.set_numerator(row.numerator() - 1);
      } else {
        fixed.set_numerator(row.numerator() + 1);
      }
      *late.add_rows() = std::move(fixed);
    }
  }
  if (late.rows_size() > 0) {
    late.set_submission_id(StrCat("demo-late-correction-", quarter_id));
    v1::Receipt receipt;
    if (auto s = check(client.ingest->SubmitObservations(Context().get(), late, &receipt),
                       "late correction");
        !s.ok()) {
      return s;
    }
    position = std::max(position, receipt.position());
    std::cerr << "demo: late correction from " << late.rows(0).ods_code() << " ("
              << FormatReceipt(receipt) << ")\n";
  }

  v1::ChangeSpcLimitsRequest rebase;
  v1::SpcLimitsChanged* change = rebase.mutable_change();
  change->set_change_id("demo-rebase-news2");
  change->set_measure_id("news2-on-time.v1");
  // April of the quarter's financial year: inside the chart for any quarter.
  change->set_rebase_month(Quarter::Of(quarter->fy_start_year(), 1).FirstMonth().ToString());
  change->set_reason("NEWS2 audits moved to electronic observations: new limits from April");
  rebase.set_min_position(position);
  v1::Receipt rebased;
  if (auto s = check(client.catalog->ChangeSpcLimits(Context().get(), rebase, &rebased), "rebase");
      !s.ok()) {
    return s;
  }
  position = std::max(position, rebased.position());
  std::cerr << "demo: news2-on-time.v1 rebased from " << change->rebase_month() << " ("
            << FormatReceipt(rebased) << ")\n";
  return position;
}

int CmdDemo(Client& client, server::Flags& flags) {
  auto seed = flags.GetInt("seed");
  auto clients = flags.GetInt("clients");
  if (!seed.ok()) return Fail(seed.status());
  if (!clients.ok() || *clients < 1) return Fail("--clients must be a positive integer");
  demo::DemoOptions options;
  options.seed = static_cast<uint64_t>(*seed);
  demo::DemoData data = demo::Generate(options);
  std::cerr << "demo: " << data.catalogue.collaboratives_size() << " collaboratives, "
            << data.catalogue.organisations_size() << " organisations, "
            << data.catalogue.measures_size() << " measures; " << Grouped(data.requests.size())
            << " requests with " << Grouped(data.rows) << " observation rows\n";

  v1::ChangeCatalogueRequest change;
  *change.mutable_change() = data.catalogue;
  v1::Receipt receipt;
  auto status = client.catalog->ChangeCatalogue(Context().get(), change, &receipt);
  if (!status.ok()) return FailCall(status);
  std::cerr << "demo: catalogue " << FormatReceipt(receipt) << "\n";

  auto stats = LoadRequests(client, data.requests, static_cast<int>(*clients), [&](const LoadStats& s) {
    char line[200];
    std::snprintf(line, sizeof line, "demo: %s / %s requests (%.0f%%), %s rows, %.0f rows/s\n",
                  Grouped(s.requests).c_str(), Grouped(data.requests.size()).c_str(),
                  100.0 * static_cast<double>(s.requests) / static_cast<double>(data.requests.size()),
                  Grouped(s.rows).c_str(), s.seconds > 0 ? static_cast<double>(s.rows) / s.seconds : 0.0);
    std::cerr << line;
  });
  if (!stats.ok()) return Fail(stats.status());
  char line[240];
  std::snprintf(line, sizeof line,
                "demo: loaded %s requests (%s repeats answered with their receipt), %s rows in "
                "%.2f s: %.0f requests/s, %.0f rows/s\n",
                Grouped(stats->requests).c_str(), Grouped(stats->duplicates).c_str(),
                Grouped(stats->rows).c_str(), stats->seconds,
                static_cast<double>(stats->requests) / stats->seconds,
                static_cast<double>(stats->rows) / stats->seconds);
  std::cerr << line;

  auto position = DemoQuarterLife(client, data, flags.Get("quarter"), stats->last_position);
  if (!position.ok()) return Fail(position.status());

  v1::GetQuarterlyReportRequest request;
  request.set_quarter(flags.Get("quarter"));
  request.set_format(v1::REPORT_FORMAT_TEXT);
  request.set_min_position(*position);
  v1::GetQuarterlyReportResponse response;
  status = client.query->GetQuarterlyReport(Context().get(), request, &response);
  if (!status.ok()) return FailCall(status);
  std::cout << response.rendered();
  if (const std::string& html = flags.Get("html"); !html.empty()) {
    request.set_format(v1::REPORT_FORMAT_HTML);
    status = client.query->GetQuarterlyReport(Context().get(), request, &response);
    if (!status.ok()) return FailCall(status);
    if (auto written = WriteFileAtomically(html, response.rendered()); !written.ok()) {
      return Fail(written);
    }
    std::cerr << "demo: HTML report with SPC charts written to " << html << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace psc::cli

int main(int argc, char** argv) {
  using namespace psc;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    std::cout << cli::kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  server::Flags flags(StrCat("psc ", command), "");
  flags.Add("server", "127.0.0.1:50051", "address of pscd, psc-gateway or psc-projection")
      .Add("tls-ca", "", "CA certificate (PEM file) of the server's TLS certificate; empty: plaintext")
      .Add("tls-cert", "", "client certificate (PEM file) for mutual TLS")
      .Add("tls-key", "", "its private key (PEM file)");
  if (command == "audit") {
    flags.Add("after", "0", "events after this log position")
        .Add("limit", "100", "at most this many entries (1..1000)")
        .Add("principal", "", "only this principal's actions");
  }
  if (command == "submit") {
    flags.Add("csv", "", "the monthly return, CSV (also accepted as the only argument)")
        .Add("submission-id", "", "request id (default: a hash of the file's bytes)")
        .AddBool("dry-run", "validate on the server only; nothing is appended");
  }
  if (command == "outstanding") {
    flags.Add("month", "", "the month, YYYY-MM").Add("collaborative", "", "only this collaborative");
  }
  if (command == "erase") {
    flags.Add("reason", "", "why, e.g. the reference of the request (required)")
        .Add("erasure-id", "", "request id (default: a hash of the learning id and reason)");
  }
  if (command == "withdraw") {
    flags.Add("reason", "", "why the values are withdrawn (required)")
        .Add("withdrawal-id", "", "request id (default: a hash of the keys and reason)");
  }
  if (command == "publish") {
    flags.Add("publication-id", "", "request id (default: from the quarter)")
        .AddBool("public", "for the public: CSV only, after disclosure control");
  }
  if (command == "published") flags.Add("format", "text", "text, json, csv or html");
  if (command == "signoff") {
    flags.Add("collaborative", "", "the collaborative signing off")
        .Add("sign-off-id", "", "request id (default: from quarter, collaborative and position)");
  }
  if (command == "limits") {
    flags.Add("measure", "", "measure id")
        .Add("collaborative", "", "the collaborative's series (default: national)")
        .Add("org", "", "an organisation's series (ODS code)")
        .Add("rebase-month", "", "new limits from this month on, YYYY-MM")
        .Add("fix-after", "0", "fix each segment's limits after N points (-1: let them float)")
        .Add("reason", "", "why (required; shown on the chart)")
        .Add("change-id", "", "request id (default: a hash of the change)");
  }
  if (command == "report" || command == "demo" || command == "publish" || command == "published" ||
      command == "signoff") {
    flags.Add("quarter", "2024/25 Q4", "NHS financial quarter, e.g. '2024/25 Q1' (Apr-Jun 2024)");
  }
  if (command == "report") {
    flags.Add("format", "text", "text, json, csv or html (a self-contained page with SPC charts)")
        .Add("output", "", "write the report to this file instead of stdout")
        .Add("min-position", "0", "wait until the read model has applied this position");
  }
  if (command == "series") {
    flags.Add("measure", "", "measure id").Add("collaborative", "", "collaborative id").Add("org", "", "ODS code")
        .Add("from", "", "first month YYYY-MM").Add("to", "", "last month YYYY-MM");
  }
  if (command == "health") {
    flags.Add("service", "", "the health service name to check (default: empty, the whole server)")
        .Add("timeout", "5", "seconds to wait for the answer");
  }
  if (command == "demo") {
    flags.Add("seed", "20250401", "seed of the generated dataset")
        .Add("clients", "4", "concurrent clients")
        .Add("html", "", "also write the HTML report (SPC charts) to this file");
  }
  server::ParseOrExit(flags, argc, argv);
  auto credentials = cli::CredentialsFrom(flags);
  if (!credentials.ok()) return cli::Fail(std::string(credentials.status().message()));
  cli::Client client(flags.Get("server"), /*own_connection=*/false, *credentials);
  if (command == "catalogue") return cli::CmdCatalogue(client, flags);
  if (command == "submit") return cli::CmdSubmit(client, flags);
  if (command == "report") return cli::CmdReport(client, flags);
  if (command == "series") return cli::CmdSeries(client, flags);
  if (command == "receipt") return cli::CmdReceipt(client, flags);
  if (command == "withdraw") return cli::CmdWithdraw(client, flags);
  if (command == "history") return cli::CmdHistory(client, flags);
  if (command == "erase") return cli::CmdErase(client, flags);
  if (command == "outstanding") return cli::CmdOutstanding(client, flags);
  if (command == "publish") return cli::CmdPublish(client, flags);
  if (command == "published") return cli::CmdPublished(client, flags);
  if (command == "status") return cli::CmdStatus(client, flags);
  if (command == "audit") return cli::CmdAudit(client, flags);
  if (command == "health") return cli::CmdHealth(client, flags);
  if (command == "signoff") return cli::CmdSignOff(client, flags);
  if (command == "limits") return cli::CmdLimits(client, flags);
  if (command == "demo") return cli::CmdDemo(client, flags);
  std::cerr << "psc: unknown command '" << command << "'\n" << cli::kUsage;
  return 2;
}
