#include "psc/server/status.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
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

}  // namespace
}  // namespace psc::server
