// gRPC services that parse their own requests.
//
// gRPC's generated handlers parse a request before the service sees it, and
// answer a request protobuf cannot parse (random bytes, a truncated varint,
// a length past the end, invalid UTF-8 in a string field) with INTERNAL and
// an empty message, as if the server had failed. A ParsingService receives
// each unary request as bytes and parses it here, one path for every
// service and method: what cannot be parsed is the caller's fault and is
// answered INVALID_ARGUMENT, saying what was wrong and where (a
// google.rpc.BadRequest naming the field, e.g. `rows[1].ods_code` for
// invalid UTF-8). What parses goes to the service's handler exactly as the
// generated code would pass it.
//
// A service declares its methods by name with their handlers; each is
// checked against the proto's descriptor (its request and response types,
// unary), and Unserved() lists the proto's methods a service has left out.
//
// Thread-safety: handlers run on gRPC's threads, as with generated services.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/arena.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/status/status.h"

namespace psc::server {

// Parses `bytes` as `message`; INVALID_ARGUMENT saying why it cannot be
// parsed (see DescribeUnparsable).
absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* message);

// Why `bytes` are not a valid encoding of `type`: INVALID_ARGUMENT naming
// the first problem and where it is (byte offset, field path), with a
// google.rpc.BadRequest on that field (`request` when no field is known).
// OK when the bytes look valid to this check.
absl::Status DescribeUnparsable(const google::protobuf::Descriptor& type, std::string_view bytes);

class ParsingService : public grpc::Service {
 public:
  // The methods of the proto service no handler was given for.
  std::vector<std::string> Unserved() const;
  const google::protobuf::ServiceDescriptor& descriptor() const { return *descriptor_; }

 protected:
  // `full_name`: the proto service, e.g. "psc.v1.IngestService" (its
  // generated code must be linked). Aborts when it is not known.
  explicit ParsingService(std::string_view full_name);

  // Serves the unary method `method` of the proto service with `handler`,
  // a member of `Impl` (the class deriving from this one). Aborts when the
  // method is not the proto's, or takes or returns other types.
  template <typename Impl, typename Request, typename Response>
  void Serve(std::string_view method, grpc::Status (Impl::*handler)(grpc::ServerContext*,
                                                                    const Request*, Response*)) {
    const char* path = Declare(method, *Request::descriptor(), *Response::descriptor());
    Impl* impl = static_cast<Impl*>(this);
    AddMethod(new grpc::internal::RpcServiceMethod(
        path, grpc::internal::RpcMethod::NORMAL_RPC,
        new grpc::internal::RpcMethodHandler<ParsingService, grpc::ByteBuffer, grpc::ByteBuffer>(
            [impl, handler](ParsingService*, grpc::ServerContext* context,
                            const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
              google::protobuf::Arena arena;
              auto* request = google::protobuf::Arena::CreateMessage<Request>(&arena);
              if (absl::Status parsed = ParseRequest(*in, request); !parsed.ok()) {
                return Refused(parsed);
              }
              Response response;
              grpc::Status status = (impl->*handler)(context, request, &response);
              if (!status.ok()) return status;
              return SerializeReply(response, out);
            },
            this)));
  }

 private:
  // Checks `method` against the descriptor and keeps its path
  // ("/package.Service/Method") for as long as the service lives.
  const char* Declare(std::string_view method, const google::protobuf::Descriptor& request,
                      const google::protobuf::Descriptor& response);
  static grpc::Status Refused(const absl::Status& status);
  static grpc::Status SerializeReply(const google::protobuf::Message& response,
                                     grpc::ByteBuffer* out);

  const google::protobuf::ServiceDescriptor* descriptor_;
  std::deque<std::string> paths_;
  std::vector<std::string> served_;
};

}  // namespace psc::server
