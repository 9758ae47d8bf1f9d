// The psc command-line client against a running pscd: the documented
// example catalogue and returns, line-numbered refusals of a whole file,
// harmless re-sends and the report in every format.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "psc/domain/strings.h"

namespace psc::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = StartServer("pscd", {"--data-dir", dir_.path()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // Runs `psc ARGS --server ADDRESS`; arguments must not need shell quoting
  // beyond the single quotes added here.
  CommandResult Psc(const std::vector<std::string>& args) {
    std::string command = ::psc::testing::BinPath("psc");
    for (const auto& a : args) StrAppend(&command, " '", a, "'");
    StrAppend(&command, " --server ", server_.address, " 2>&1");
    return RunCommand(command);
  }

  uint64_t AppliedPosition() {
    v1::ProjectionStatus status;
    EXPECT_TRUE(server_.query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &status).ok());
    return status.applied_position();
  }

  ::psc::testing::TempDir dir_;
  Server server_;
};

TEST_F(CliTest, ExampleCatalogueAndReturnsEndInTheReport) {
  CommandResult load = Psc({"catalogue", "load", ::psc::testing::SourcePath("examples/catalogue.json")});
  ASSERT_EQ(load.code, 0) << load.output;
  EXPECT_THAT(load.output, HasSubstr("example-catalogue-1: position 1, 19 rows"));

  // 2 topics + 2 collaboratives + 3 organisations + 3 measures + 8
  // enrolments + 1 membership = 19 rows.
  // Two bad rows of three: the whole file is refused by line, nothing sent.
  CommandResult bad = Psc({"submit", "--csv", ::psc::testing::SourcePath("examples/return-with-errors.csv")});
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("nothing sent"));
  EXPECT_THAT(bad.output, HasSubstr("line 3: numerator"));
  EXPECT_THAT(bad.output, HasSubstr("line 4: org_code: RDZ is not enrolled"));
  EXPECT_THAT(bad.output, Not(HasSubstr("line 2")));
  EXPECT_EQ(AppliedPosition(), 1u);

  const std::string good = ::psc::testing::SourcePath("examples/return-2024-q1.csv");
  CommandResult dry = Psc({"submit", "--csv", good, "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.output;
  EXPECT_THAT(dry.output, HasSubstr("dry run: 9 rows valid, nothing sent"));
  EXPECT_EQ(AppliedPosition(), 1u);
  CommandResult submit = Psc({"submit", "--csv", good});
  ASSERT_EQ(submit.code, 0) << submit.output;
  EXPECT_THAT(submit.output, HasSubstr(": position 2, 9 rows"));
  CommandResult again = Psc({"submit", good});
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr(": position 2, 9 rows (already on the log"));

  // Falls with harm, 2024/25 Q1: (3 + 2 + 4) / (2000 + 1000 + 4000) x 1,000
  // = 1.2857 per 1,000 bed days; 3 of 9 organisation-months reported; its
  // national SPC summary: common cause, no target so no assurance.
  CommandResult csv = Psc({"report", "--quarter", "2024/25 Q1", "--format", "csv", "--min-position", "2"});
  ASSERT_EQ(csv.code, 0) << csv.output;
  EXPECT_THAT(csv.output,
              HasSubstr("2024/25 Q1,outcome,falls,falls-harm-rate.v1,\"Inpatient falls with harm "
                        "per 1,000 occupied bed days\",national,,9,7000,1.2857,\"per 1,000 "
                        "occupied bed days\",3,9,common_cause,none\r\n"));
  // NEWS2 on time: RHM 90/100 in wessex = 90%; RTH 40/50 in oxford = 80%.
  EXPECT_THAT(csv.output, HasSubstr(",collaborative,wessex,90,100,90.0000,"));
  EXPECT_THAT(csv.output, HasSubstr(",collaborative,oxford,40,50,80.0000,"));

  CommandResult withdraw = Psc({"withdraw", "--reason", "sent for the wrong ward", "RTH",
                         "news2-on-time.v1", "2024-04"});
  ASSERT_EQ(withdraw.code, 0) << withdraw.output;
  EXPECT_THAT(withdraw.output, HasSubstr(": position 3, 1 rows"));
  CommandResult history = Psc({"history", "RTH", "news2-on-time.v1", "2024-04"});
  ASSERT_EQ(history.code, 0) << history.output;
  EXPECT_THAT(history.output, HasSubstr("position 2  local  "));
  EXPECT_THAT(history.output, HasSubstr("set 40/50 (was none)"));
  EXPECT_THAT(history.output, HasSubstr("position 3  local  "));
  EXPECT_THAT(history.output, HasSubstr("withdrew 40/50 (sent for the wrong ward)"));
  // NEWS2 nationally is now RHM's 90/100 alone.
  CommandResult after = Psc({"report", "--quarter", "2024/25 Q1", "--format", "csv", "--min-position", "3"});
  EXPECT_THAT(after.output, HasSubstr(",news2-on-time.v1,NEWS2 observations completed on time,national,,90,100,90.0000,"));

  // April 2024 (examples/return-2024-q1.csv, everything sent long after
  // the deadline): wessex expects RHM's 3 measures and RDZ's 2; RDZ's staff
  // trained is for May, so 4 of 5. oxford expects RTH's 3; its falls are
  // for May and its NEWS2 was withdrawn above, so 1 of 3.
  CommandResult outstanding = Psc({"outstanding", "--month", "2024-04"});
  ASSERT_EQ(outstanding.code, 0) << outstanding.output;
  EXPECT_THAT(outstanding.output, HasSubstr("wessex: 4 of 5 returns (80.0%), 0 on time"));
  EXPECT_THAT(outstanding.output, HasSubstr("RDZ Example Acute Trust 2: missing staff-trained.v1"));
  EXPECT_THAT(outstanding.output, HasSubstr("oxford: 1 of 3 returns (33.3%), 0 on time"));
  EXPECT_THAT(outstanding.output, HasSubstr("RTH Example Acute Trust 3: missing falls-harm-rate.v1 news2-on-time.v1"));

  CommandResult receipt = Psc({"receipt", "withdraw-does-not-exist"});
  EXPECT_EQ(receipt.code, 1);
  EXPECT_THAT(receipt.output, HasSubstr("NOT_FOUND"));
  CommandResult status = Psc({"status"});
  EXPECT_THAT(status.output, HasSubstr("applied position 3, 8 observations, 0 refused events"));
  // wessex falls with harm: April (3+2)/(2000+1000) x 1,000 = 1.667; May none.
  CommandResult series = Psc({"series", "--measure", "falls-harm-rate.v1", "--collaborative",
                              "wessex", "--from", "2024-04", "--to", "2024-05"});
  ASSERT_EQ(series.code, 0) << series.output;
  EXPECT_THAT(series.output, HasSubstr("2024-04         1.667  5/3000  reported 2/2"));
  EXPECT_THAT(series.output, HasSubstr("2024-05       no data  0/0  reported 0/2"));
  CommandResult show = Psc({"catalogue", "show"});
  EXPECT_THAT(show.output, HasSubstr("\"odsCode\": \"RTH\""));

  CommandResult json = Psc({"report", "--quarter", "2024/25 Q1", "--format", "json"});
  ASSERT_EQ(json.code, 0) << json.output;
  EXPECT_THAT(json.output, HasSubstr("\"quarter\": \"2024/25 Q1\""));
  CommandResult text = Psc({"report", "--quarter", "2024/25 Q1"});
  ASSERT_EQ(text.code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("National quarterly aggregate 2024/25 Q1"));

  CommandResult bad_quarter = Psc({"report", "--quarter", "Q1 2024"});
  EXPECT_EQ(bad_quarter.code, 1);
  EXPECT_THAT(bad_quarter.output, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(bad_quarter.output, HasSubstr("quarter:"));

  // Wessex signs off (position 4); the same command again changes nothing.
  CommandResult signoff = Psc({"signoff", "--quarter", "2024/25 Q1", "--collaborative", "wessex"});
  ASSERT_EQ(signoff.code, 0) << signoff.output;
  EXPECT_THAT(signoff.output, HasSubstr("position 4"));
  CommandResult signoff_again =
      Psc({"signoff", "--quarter", "2024/25 Q1", "--collaborative", "wessex"});
  EXPECT_THAT(signoff_again.output, HasSubstr("position 4"));
  EXPECT_THAT(signoff_again.output, HasSubstr("already on the log"));
  CommandResult signed_text = Psc({"report", "--quarter", "2024/25 Q1", "--min-position", "4"});
  EXPECT_THAT(signed_text.output, HasSubstr("Wessex: signed off as signoff-"));
  CommandResult bad_signoff = Psc({"signoff", "--quarter", "2024/25 Q1", "--collaborative", "kent"});
  EXPECT_EQ(bad_signoff.code, 1);
  EXPECT_THAT(bad_signoff.output, HasSubstr("collaborative_id"));

  // A limits change without a reason is refused naming the field; with one
  // it is appended (position 5).
  CommandResult no_reason =
      Psc({"limits", "--measure", "falls-harm-rate.v1", "--rebase-month", "2024-05"});
  EXPECT_EQ(no_reason.code, 1);
  EXPECT_THAT(no_reason.output, HasSubstr("change.reason"));
  CommandResult limits = Psc({"limits", "--measure", "falls-harm-rate.v1", "--rebase-month",
                              "2024-05", "--reason", "new incident reporting system"});
  ASSERT_EQ(limits.code, 0) << limits.output;
  EXPECT_THAT(limits.output, HasSubstr("position 5"));
}

TEST_F(CliTest, WrongHeaderIsRefusedAtLineOne) {
  ASSERT_EQ(Psc({"catalogue", "load", ::psc::testing::SourcePath("examples/catalogue.json")}).code, 0);
  std::string path = dir_.Sub("wrong.csv");
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("org,measure,month,value\nRHM,falls-harm-rate.v1,2024-04,1\n", f);
  std::fclose(f);
  CommandResult run = Psc({"submit", "--csv", path});
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.output, HasSubstr("line 1"));
  EXPECT_EQ(AppliedPosition(), 1u);
}

// `psc health` is the containers' health check: exit 0 and SERVING from a
// running server, non-zero with the reason from an address nobody serves.
TEST_F(CliTest, HealthIsServingOnARunningServerAndFailsWhereNobodyListens) {
  CommandResult serving = Psc({"health"});
  EXPECT_EQ(serving.code, 0) << serving.output;
  EXPECT_EQ(serving.output, "SERVING\n");
  // A service the server does not report on is a failed check, named.
  CommandResult unknown = Psc({"health", "--service", "psc.v1.NoSuchService"});
  EXPECT_EQ(unknown.code, 1) << unknown.output;
  EXPECT_THAT(unknown.output, HasSubstr("health check of service psc.v1.NoSuchService at "));
  EXPECT_THAT(unknown.output, HasSubstr("NOT_FOUND"));

  // A port bound but never listened on: connections to it are refused for
  // as long as the socket stays open.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string nobody = StrCat("127.0.0.1:", ntohs(addr.sin_port));
  CommandResult down = RunCommand(StrCat(::psc::testing::BinPath("psc"), " health --server ",
                                         nobody, " --timeout 10 2>&1"));
  ::close(fd);
  EXPECT_NE(down.code, 0) << down.output;
  EXPECT_THAT(down.output, HasSubstr(StrCat("psc: health check of ", nobody, " failed: UNAVAILABLE")));
  EXPECT_THAT(down.output, Not(HasSubstr("SERVING")));
}

}  // namespace
}  // namespace psc::e2e
