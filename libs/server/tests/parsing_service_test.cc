// What a request that cannot be parsed is told: the problem, where it is
// (byte offset, field path) and a BadRequest on that field. Bytes are
// written by hand in the wire format, so each case is exactly the damage it
// names.
#include "psc/server/parsing_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "psc/domain/violations.h"
#include "psc/v1/ingest.pb.h"

namespace psc::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A length-delimited field: tag (number << 3 | 2), length, bytes.
std::string Delimited(int number, const std::string& bytes) {
  std::string out;
  out.push_back(static_cast<char>(number << 3 | 2));
  out.push_back(static_cast<char>(bytes.size()));  // every case is < 128 bytes
  return out + bytes;
}

// An Observation with ods_code `ods` (field 1), measure_id (2), month (3).
std::string Row(const std::string& ods) {
  return Delimited(1, ods) + Delimited(2, "falls-count.v1") + Delimited(3, "2024-04");
}

const google::protobuf::Descriptor& Submit() {
  return *v1::SubmitObservationsRequest::descriptor();
}

std::pair<std::string, std::string> FieldAndReason(const absl::Status& s) {
  auto v = FieldViolationsOf(s);
  if (v.size() != 1) return {"(" + std::to_string(v.size()) + " violations)", ""};
  return {v[0].field, v[0].reason};
}

TEST(DescribeUnparsableTest, ValidBytesHaveNoProblem) {
  // submission_id (1), then rows (2) twice.
  const std::string bytes = Delimited(1, "s-1") + Delimited(2, Row("RHM")) + Delimited(2, Row("RDZ"));
  v1::SubmitObservationsRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.rows(1).ods_code(), "RDZ");
  EXPECT_TRUE(DescribeUnparsable(Submit(), bytes).ok());
}

TEST(DescribeUnparsableTest, InvalidUtf8NamesTheRowAndField) {
  // \xC3\x28: a two-byte lead followed by a byte that does not continue it.
  const std::string bytes =
      Delimited(1, "s-1") + Delimited(2, Row("RHM")) + Delimited(2, Row("R\xC3\x28Z"));
  v1::SubmitObservationsRequest parsed;
  ASSERT_FALSE(parsed.ParseFromString(bytes)) << "protobuf accepts it: the case proves nothing";
  absl::Status s = DescribeUnparsable(Submit(), bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldAndReason(s), std::make_pair(std::string("rows[1].ods_code"),
                                              std::string("INVALID_UTF8")));
  EXPECT_THAT(s.message(), HasSubstr("could not be parsed as psc.v1.SubmitObservationsRequest"));
  EXPECT_THAT(s.message(), HasSubstr("rows[1].ods_code: is not valid UTF-8"));
}

TEST(DescribeUnparsableTest, InvalidUtf8InTheIdAndOverlongAndSurrogateForms) {
  for (const std::string& bad : {std::string("id\xFF"), std::string("\xC0\xAF"),
                                std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80")}) {
    const std::string bytes = Delimited(1, bad);
    v1::SubmitObservationsRequest parsed;
    ASSERT_FALSE(parsed.ParseFromString(bytes));
    EXPECT_EQ(FieldAndReason(DescribeUnparsable(Submit(), bytes)),
              std::make_pair(std::string("submission_id"), std::string("INVALID_UTF8")));
  }
  // Well-formed multi-byte text is fine: e, with an acute accent; a euro
  // sign; an emoji.
  EXPECT_TRUE(DescribeUnparsable(Submit(), Delimited(1, "caf\xC3\xA9-\xE2\x82\xAC-\xF0\x9F\x98\x80")).ok());
}

TEST(DescribeUnparsableTest, TruncatedVarint) {
  // dry_run is field 4 (varint); its value starts and never ends.
  const std::string bytes = Delimited(1, "s-1") + std::string("\x20\x80", 2);
  v1::SubmitObservationsRequest parsed;
  ASSERT_FALSE(parsed.ParseFromString(bytes));
  absl::Status s = DescribeUnparsable(Submit(), bytes);
  EXPECT_EQ(FieldAndReason(s), std::make_pair(std::string("dry_run"), std::string("MALFORMED")));
  EXPECT_THAT(s.message(), HasSubstr("the number at byte 5 is cut short"));
}

TEST(DescribeUnparsableTest, LengthPastTheEnd) {
  // rows[0] says 40 bytes follow; 3 do.
  const std::string bytes = Delimited(1, "s-1") + std::string("\x12\x28" "abc", 5);
  v1::SubmitObservationsRequest parsed;
  ASSERT_FALSE(parsed.ParseFromString(bytes));
  absl::Status s = DescribeUnparsable(Submit(), bytes);
  EXPECT_EQ(FieldAndReason(s), std::make_pair(std::string("rows[0]"), std::string("MALFORMED")));
  EXPECT_THAT(s.message(), HasSubstr("byte 5 says 40 bytes follow, but only 3 remain"));
}

TEST(DescribeUnparsableTest, ProblemsInsideARow) {
  // A row whose own bytes end inside its month's length.
  const std::string row = Delimited(1, "RHM") + std::string("\x1a\x07" "2024", 6);
  const std::string bytes = Delimited(2, row);
  v1::SubmitObservationsRequest parsed;
  ASSERT_FALSE(parsed.ParseFromString(bytes));
  EXPECT_EQ(FieldAndReason(DescribeUnparsable(Submit(), bytes)),
            std::make_pair(std::string("rows[0].month"), std::string("MALFORMED")));
}

TEST(DescribeUnparsableTest, WireTypesProtobufDoesNotHave) {
  for (char tag : {'\x0e', '\x0f'}) {  // field 1, wire types 6 and 7
    const std::string bytes = std::string(1, tag) + "garbage";
    v1::SubmitObservationsRequest parsed;
    ASSERT_FALSE(parsed.ParseFromString(bytes));
    absl::Status s = DescribeUnparsable(Submit(), bytes);
    EXPECT_EQ(FieldAndReason(s).second, "MALFORMED");
    EXPECT_THAT(s.message(), HasSubstr("which protobuf does not have"));
  }
}

TEST(DescribeUnparsableTest, FieldNumberZeroAndStrayEndGroup) {
  v1::SubmitObservationsRequest parsed;
  const std::string zero("\x00\x01", 2);
  ASSERT_FALSE(parsed.ParseFromString(zero));
  EXPECT_THAT(DescribeUnparsable(Submit(), zero).message(), HasSubstr("field numbered 0"));
  const std::string end_group("\x7c", 1);  // field 15, end group
  ASSERT_FALSE(parsed.ParseFromString(end_group));
  EXPECT_THAT(DescribeUnparsable(Submit(), end_group).message(), HasSubstr("never started"));
}

TEST(DescribeUnparsableTest, DeeplyNestedGarbage) {
  // 200 start-group tags of an unknown field 15: protobuf stops at 100.
  const std::string bytes(200, '\x7b');
  v1::SubmitObservationsRequest parsed;
  ASSERT_FALSE(parsed.ParseFromString(bytes));
  absl::Status s = DescribeUnparsable(Submit(), bytes);
  EXPECT_EQ(FieldAndReason(s).second, "TOO_DEEP");
  EXPECT_THAT(s.message(), HasSubstr("more than 100 deep"));
  // Groups that are closed within the limit are fine.
  std::string nested = std::string(50, '\x7b') + std::string(50, '\x7c');
  ASSERT_TRUE(parsed.ParseFromString(nested));
  EXPECT_TRUE(DescribeUnparsable(Submit(), nested).ok());
}

TEST(ParseRequestTest, RandomBytesAreInvalidArgumentWithAMessage) {
  const std::string garbage = "\xde\xad\xbe\xef\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
  grpc::Slice slice(garbage);
  grpc::ByteBuffer buffer(&slice, 1);
  v1::SubmitObservationsRequest request;
  absl::Status s = ParseRequest(buffer, &request);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("could not be parsed as psc.v1.SubmitObservationsRequest"));
  EXPECT_FALSE(FieldViolationsOf(s).empty());
}

TEST(ParseRequestTest, ValidBytesParse) {
  v1::SubmitObservationsRequest sent;
  sent.set_submission_id("s-1");
  sent.add_rows()->set_ods_code("RHM");
  grpc::Slice slice(sent.SerializeAsString());
  grpc::ByteBuffer buffer(&slice, 1);
  v1::SubmitObservationsRequest request;
  ASSERT_TRUE(ParseRequest(buffer, &request).ok());
  EXPECT_EQ(request.rows(0).ods_code(), "RHM");
}

}  // namespace
}  // namespace psc::server
