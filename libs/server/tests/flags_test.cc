#include "psc/server/flags.h"

#include <gtest/gtest.h>

#include "psc/server/grpc_server.h"

namespace psc::server {
namespace {

absl::Status ParseArgs(Flags& flags, std::vector<std::string> args) {
  std::vector<char*> argv;
  std::string program = "prog";
  argv.push_back(program.data());
  for (auto& a : args) argv.push_back(a.data());
  return flags.Parse(static_cast<int>(argv.size()), argv.data());
}

Flags Sample() {
  Flags flags("prog", "test");
  flags.Add("listen", "127.0.0.1:50051", "address").Add("budget", "256", "MiB").AddBool("rebuild", "");
  return flags;
}

TEST(Flags, AcceptsBothValueFormsBooleansAndPositionals) {
  Flags flags = Sample();
  ASSERT_TRUE(ParseArgs(flags, {"--listen=0.0.0.0:1", "load", "--budget", "64", "--rebuild", "x.json"}).ok());
  EXPECT_EQ(flags.Get("listen"), "0.0.0.0:1");
  EXPECT_EQ(*flags.GetInt("budget"), 64);
  EXPECT_TRUE(flags.GetBool("rebuild"));
  EXPECT_TRUE(flags.IsSet("budget"));
  EXPECT_EQ(flags.positional(), (std::vector<std::string>{"load", "x.json"}));
}

TEST(Flags, ErrorsNameTheFlag) {
  Flags flags = Sample();
  auto s = ParseArgs(flags, {"--lisen=1"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--lisen"), std::string_view::npos);
  Flags missing = Sample();
  EXPECT_NE(ParseArgs(missing, {"--listen"}).message().find("--listen needs a value"),
            std::string_view::npos);
  Flags bad_int = Sample();
  ASSERT_TRUE(ParseArgs(bad_int, {"--budget=lots"}).ok());
  EXPECT_NE(bad_int.GetInt("budget").status().message().find("--budget"), std::string_view::npos);
}

TEST(ParseHostPort, SplitsAndChecksThePort) {
  auto ok = ParseHostPort("[::1]:0", "--listen");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->first, "[::1]");
  EXPECT_EQ(ok->second, 0);
  EXPECT_FALSE(ParseHostPort("localhost", "--listen").ok());
  EXPECT_NE(ParseHostPort("h:70000", "--listen").status().message().find("0..65535"),
            std::string_view::npos);
}

}  // namespace
}  // namespace psc::server
