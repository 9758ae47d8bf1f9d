#include "psc/domain/nhs_number.h"

#include <gtest/gtest.h>

namespace psc {
namespace {

// 943 476 5919: 9x10 + 4x9 + 3x8 + 4x7 + 7x6 + 6x5 + 5x4 + 9x3 + 1x2 = 299;
// 299 mod 11 = 2; 11 - 2 = 9, the last digit.
TEST(NhsNumberTest, ModulusElevenCheck) {
  EXPECT_TRUE(IsValidNhsNumber("9434765919"));
  EXPECT_FALSE(IsValidNhsNumber("9434765918"));
  // 401 023 2137: 40 + 0 + 8 + 0 + 12 + 15 + 8 + 3 + 6 = 92; 92 mod 11 = 4; 11 - 4 = 7.
  EXPECT_TRUE(IsValidNhsNumber("4010232137"));
  EXPECT_FALSE(IsValidNhsNumber("401023213"));
  // 000 000 005: 5x2 = 10; 10 mod 11 = 10; 11 - 10 = 1.
  EXPECT_TRUE(IsValidNhsNumber("0000000051"));
  EXPECT_FALSE(IsValidNhsNumber("0000000050"));
  // 100 000 000: 1x10 = 10 -> 1. 010 000 000: 1x9 = 9 -> 2.
  EXPECT_TRUE(IsValidNhsNumber("1000000001"));
  EXPECT_TRUE(IsValidNhsNumber("0100000002"));
  // 000 000 006: 6x2 = 12; 12 mod 11 = 1; 11 - 1 = 10, which no digit can
  // be: invalid whatever the last digit.
  for (char d = '0'; d <= '9'; ++d) {
    EXPECT_FALSE(IsValidNhsNumber(std::string("000000006") + d));
  }
}

TEST(NhsNumberTest, FindsGroupedNumbersInText) {
  EXPECT_EQ(FindNhsNumber("patient 943 476 5919 was seen"), "9434765919");
  EXPECT_EQ(FindNhsNumber("ref 943-476-5919."), "9434765919");
  EXPECT_EQ(FindNhsNumber("9434765919"), "9434765919");
  EXPECT_EQ(FindNhsNumber("ward 5 943 476 5919"), "9434765919");
}

TEST(NhsNumberTest, IgnoresNumbersThatAreNotNhsNumbers) {
  EXPECT_EQ(FindNhsNumber("falls fell from 120 to 95 in 2024"), std::nullopt);
  EXPECT_EQ(FindNhsNumber("943 476 5918"), std::nullopt);          // check digit wrong
  EXPECT_EQ(FindNhsNumber("94347659190"), std::nullopt);           // 11 contiguous digits
  EXPECT_EQ(FindNhsNumber("943  476 5919"), std::nullopt);         // double space breaks it
  EXPECT_EQ(FindNhsNumber(""), std::nullopt);
}

}  // namespace
}  // namespace psc
