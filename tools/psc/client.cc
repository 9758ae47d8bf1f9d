#include "client.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "psc/domain/strings.h"

namespace psc::cli {

Client::Client(const std::string& server, bool own_connection, const Credentials& credentials) {
  grpc::ChannelArguments args;
  if (own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxSendMessageSize(16 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::ChannelCredentials> transport = grpc::InsecureChannelCredentials();
  if (!credentials.ca.empty()) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = credentials.ca;
    tls.pem_cert_chain = credentials.certificate;
    tls.pem_private_key = credentials.key;
    transport = grpc::SslCredentials(tls);
    if (!credentials.token.empty()) {
      transport = grpc::CompositeChannelCredentials(
          transport, grpc::AccessTokenCredentials(credentials.token));
    }
  }
  channel = grpc::CreateCustomChannel(server, transport, args);
  ingest = v1::IngestService::NewStub(channel);
  catalog = v1::CatalogService::NewStub(channel);
  query = v1::QueryService::NewStub(channel);
  publication = v1::PublicationService::NewStub(channel);
}

namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "OK";
  }
}

}  // namespace

std::string Describe(const grpc::Status& status,
                     const std::function<std::string(const std::string&)>& rename) {
  std::string out = StrCat(CodeName(status.error_code()), ": ", status.error_message());
  google::rpc::Status rich;
  if (!status.error_details().empty() && rich.ParseFromString(status.error_details())) {
    for (const auto& any : rich.details()) {
      google::rpc::BadRequest bad;
      if (!any.UnpackTo(&bad)) continue;
      for (const auto& v : bad.field_violations()) {
        StrAppend(&out, "\n  ", rename ? rename(v.field()) : v.field(), ": ", v.description(),
                  " [", v.reason(), "]");
      }
    }
  }
  return out;
}

std::unique_ptr<grpc::ClientContext> Context(int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

}  // namespace psc::cli
