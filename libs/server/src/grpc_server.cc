#include "psc/server/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <charconv>
#include <iostream>

#include "psc/domain/strings.h"

namespace psc::server {

absl::StatusOr<std::pair<std::string, int>> ParseHostPort(const std::string& text,
                                                          const std::string& flag) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(StrCat(flag, " must be HOST:PORT, not ", Quote(text)));
  }
  std::string host = text.substr(0, colon);
  int port = -1;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || p != end || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        StrCat(flag, " port must be 0..65535 (0 picks a free one), not ",
               Quote(text.substr(colon + 1))));
  }
  return std::make_pair(host, port);
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const std::vector<Served>& services,
                                                              const GrpcServerOptions& options) {
  auto host_port = ParseHostPort(options.listen, "--listen");
  if (!host_port.ok()) return host_port.status();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<GrpcServer> server(new GrpcServer());
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!options.tls.cert_chain.empty()) {
    grpc::SslServerCredentialsOptions tls(
        options.tls.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                      : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    tls.pem_root_certs = options.tls.client_ca;
    tls.pem_key_cert_pairs.push_back({options.tls.private_key, options.tls.cert_chain});
    credentials = grpc::SslServerCredentials(tls);
  }
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  for (const Served& served : services) {
    builder.RegisterService(served.service);
    server->names_.push_back(served.name);
  }
  if (options.telemetry != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(options.telemetry->GrpcInterceptor());
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(StrCat("cannot listen on ", options.listen,
                                         ": the address is in use or not local, or the TLS "
                                         "certificate and key do not match"));
  }
  server->address_ = StrCat(host_port->first, ":", server->port_);
  server->SetServing(false);
  std::cout << "listening on " << server->address_
            << (options.tls.cert_chain.empty() ? "" : " (TLS)") << std::endl;
  return server;
}

GrpcServer::~GrpcServer() {
  if (server_) Shutdown(std::chrono::milliseconds(0));
}

void GrpcServer::SetServing(bool serving) {
  auto* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  for (const std::string& name : names_) health->SetServingStatus(name, serving);
}

void GrpcServer::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  SetServing(false);
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

}  // namespace psc::server
