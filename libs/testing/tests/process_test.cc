// Child processes of tests and tools: output captured, exit codes, and
// children that stop with the thread that started them.
#include "psc/testing/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

namespace psc::testing {
namespace {

using std::chrono::seconds;

TEST(ChildProcessTest, CapturesOutputAndExitCode) {
  auto child = ChildProcess::Start({"/bin/sh", "-c", "echo listening on 127.0.0.1:7 now; exit 3"});
  ASSERT_TRUE(child.ok()) << child.status();
  auto value = (*child)->WaitForValue("listening on ", seconds(10));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "127.0.0.1:7");
  auto code = (*child)->Wait(seconds(10));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 3);
}

TEST(ChildProcessTest, CapturesStderrWhenAsked) {
  for (bool capture : {true, false}) {
    ChildProcess::Options options;
    options.capture_stderr = capture;
    auto child = ChildProcess::Start({"/bin/sh", "-c", "echo to-out; echo to-err >&2"}, options);
    ASSERT_TRUE(child.ok()) << child.status();
    ASSERT_TRUE((*child)->Wait(seconds(10)).ok());
    EXPECT_NE((*child)->Output().find("to-out"), std::string::npos);
    EXPECT_EQ((*child)->Output().find("to-err") != std::string::npos, capture);
  }
}

// Wait returns once the output is read to its end: the child's last lines
// can still be in the pipe when it has exited (20,000 lines are more than a
// pipe holds, and the reader echoes each one, so it lags behind the child).
TEST(ChildProcessTest, OutputIsCompleteOnceWaitReturns) {
  for (int run = 0; run < 5; ++run) {
    auto child = ChildProcess::Start({"/usr/bin/seq", "1", "20000"});
    ASSERT_TRUE(child.ok()) << child.status();
    auto code = (*child)->Wait(seconds(30));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0);
    const std::string out = (*child)->Output();
    ASSERT_GE(out.size(), 6u);
    EXPECT_EQ(out.substr(out.size() - 6), "20000\n") << "run " << run << ": " << out.size()
                                                     << " bytes read";
  }
}

TEST(ChildProcessTest, StopWithParentEndsTheChildWhenItsStarterEnds) {
  for (bool stop_with_parent : {true, false}) {
    SCOPED_TRACE(stop_with_parent ? "stop_with_parent" : "default");
    std::unique_ptr<ChildProcess> child;
    // A thread that starts the child and ends: to the kernel, the child's
    // parent has gone.
    std::thread([&] {
      ChildProcess::Options options;
      options.stop_with_parent = stop_with_parent;
      auto started = ChildProcess::Start({"/bin/sh", "-c", "echo up; exec sleep 30"}, options);
      ASSERT_TRUE(started.ok()) << started.status();
      child = std::move(*started);
      ASSERT_TRUE(child->WaitForLine("up", seconds(10)).ok());
    }).join();
    ASSERT_NE(child, nullptr);
    auto code = child->Wait(std::chrono::milliseconds(stop_with_parent ? 10'000 : 1'000));
    if (stop_with_parent) {
      ASSERT_TRUE(code.ok()) << code.status();
      EXPECT_EQ(*code, 128 + SIGTERM);
    } else {
      EXPECT_FALSE(code.ok()) << "the child ended without being asked to";
      child->Signal(SIGKILL);
      auto killed = child->Wait(seconds(10));
      ASSERT_TRUE(killed.ok());
      EXPECT_EQ(*killed, 128 + SIGKILL);
    }
  }
}

TEST(ChildProcessTest, AProgramThatCannotRunIsAnError) {
  ChildProcess::Options options;
  options.stop_with_parent = true;
  auto child = ChildProcess::Start({"/nonexistent/program"}, options);
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.status().message().find("/nonexistent/program"), std::string::npos)
      << child.status();
}

}  // namespace
}  // namespace psc::testing
