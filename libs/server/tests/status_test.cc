#include "psc/server/status.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "psc/domain/strings.h"
#include "psc/domain/violations.h"

namespace psc::server {
namespace {

TEST(ToGrpcStatus, CarriesBadRequestDetailsInTheStandardTrailer) {
  Violations v;
  v.Add("rows[2].month", "MONTH_IN_FUTURE", "2031-01 is after the current month 2024-05");
  v.Add("rows[4].ods_code", "UNKNOWN_ORGANISATION", "XXX is not registered");
  grpc::Status status = ToGrpcStatus(v.ToStatus("submission refused"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("submission refused"), std::string::npos);

  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(status.error_details()));
  EXPECT_EQ(rich.code(), 3);
  ASSERT_EQ(rich.details_size(), 1);
  EXPECT_EQ(rich.details(0).type_url(), "type.googleapis.com/google.rpc.BadRequest");
  google::rpc::BadRequest bad;
  ASSERT_TRUE(rich.details(0).UnpackTo(&bad));
  ASSERT_EQ(bad.field_violations_size(), 2);
  EXPECT_EQ(bad.field_violations(0).field(), "rows[2].month");
  EXPECT_EQ(bad.field_violations(0).reason(), "MONTH_IN_FUTURE");
  EXPECT_EQ(bad.field_violations(1).field(), "rows[4].ods_code");
}

TEST(ToGrpcStatus, PlainErrorsKeepCodeAndMessageWithoutDetails) {
  grpc::Status status = ToGrpcStatus(absl::UnavailableError("log unreachable"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "log unreachable");
  EXPECT_TRUE(status.error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

// However large the request behind an error, what goes into the trailers
// stays bounded: a long message is cut, a BadRequest keeps what fits.
TEST(ToGrpcStatus, BoundsTheMessageAndTheDetails) {
  const std::string huge(100'000, 'A');
  grpc::Status plain = ToGrpcStatus(absl::NotFoundError("no request " + huge));
  EXPECT_LE(plain.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_EQ(plain.error_message().substr(0, 14), "no request AAA");
  EXPECT_EQ(plain.error_message().substr(plain.error_message().size() - 3), "...");

  // A BadRequest built elsewhere, with 500 violations of 1,000 bytes each.
  google::rpc::BadRequest bad;
  for (int i = 0; i < 500; ++i) {
    auto* v = bad.add_field_violations();
    v->set_field("rows[" + std::to_string(i) + "].ods_code");
    v->set_reason("UNKNOWN_ORGANISATION");
    v->set_description(std::string(1000, 'x'));
  }
  absl::Status status = absl::InvalidArgumentError("refused");
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad.SerializeAsString()));
  grpc::Status out = ToGrpcStatus(status);
  EXPECT_LE(out.error_details().size(), kMaxStatusDetailsBytes + 64);
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(out.error_details()));
  ASSERT_EQ(rich.details_size(), 1);
  google::rpc::BadRequest kept;
  ASSERT_TRUE(rich.details(0).UnpackTo(&kept));
  ASSERT_GE(kept.field_violations_size(), 2);
  EXPECT_EQ(kept.field_violations(0).field(), "rows[0].ods_code");
  const auto& last = kept.field_violations(kept.field_violations_size() - 1);
  EXPECT_EQ(last.reason(), "MORE_VIOLATIONS");
  EXPECT_EQ(last.description(),
            std::to_string(500 - (kept.field_violations_size() - 1)) + " more violations not listed");
}

// Violations list what fits a few kilobytes and count the rest, and the
// values they quote are clipped.
TEST(ToGrpcStatus, TenThousandBadRowsMakeASmallError) {
  Violations v;
  const std::string code(100'000, 'Z');
  for (int i = 0; i < 10'000; ++i) {
    v.Add("rows[" + std::to_string(i) + "].ods_code", "UNKNOWN_ORGANISATION",
          "organisation " + Quote(code) + " is not registered");
  }
  grpc::Status out = ToGrpcStatus(v.ToStatus("submission refused"));
  EXPECT_LE(out.error_message().size(), 400u);
  EXPECT_NE(out.error_message().find("'ZZZZ"), std::string::npos);
  EXPECT_NE(out.error_message().find("...' (100000 characters) is not registered (and 9999 more)"),
            std::string::npos)
      << out.error_message();
  EXPECT_LE(out.error_details().size(), Violations::kMaxListedBytes + 1024);
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(out.error_details()));
  google::rpc::BadRequest kept;
  ASSERT_TRUE(rich.details(0).UnpackTo(&kept));
  EXPECT_EQ(kept.field_violations(kept.field_violations_size() - 1).description(),
            std::to_string(10'000 - (kept.field_violations_size() - 1)) +
                " more violations not listed");
}

}  // namespace
}  // namespace psc::server
