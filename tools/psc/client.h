// The psc command-line client: a thin gRPC client of the psc.v1 services.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "psc/v1/catalog_service.grpc.pb.h"
#include "psc/v1/ingest.grpc.pb.h"
#include "psc/v1/publication.grpc.pb.h"
#include "psc/v1/query.grpc.pb.h"

namespace psc::cli {

// How to reach a server that requires TLS (PEM text); empty ca: plaintext.
struct Credentials {
  std::string ca;           // the CA that signed the server's certificate
  std::string certificate;  // the client certificate (mutual TLS), or ""
  std::string key;          // its private key
  std::string token;        // a bearer token, or ""
};

struct Client {
  // With `own_connection`, the channel keeps a connection of its own rather
  // than sharing one with other channels to the same server (for load
  // generators with one connection per client).
  explicit Client(const std::string& server, bool own_connection = false,
                  const Credentials& credentials = {});
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::IngestService::Stub> ingest;
  std::unique_ptr<v1::CatalogService::Stub> catalog;
  std::unique_ptr<v1::QueryService::Stub> query;
  std::unique_ptr<v1::PublicationService::Stub> publication;
};

// A failed call for people: `CODE: message`, then one line per field
// violation in the google.rpc.BadRequest details, with `rename` applied to
// each field path (to turn rows[i] into CSV line numbers).
std::string Describe(const grpc::Status& status,
                     const std::function<std::string(const std::string&)>& rename = nullptr);

// A context with a deadline `seconds` from now.
std::unique_ptr<grpc::ClientContext> Context(int seconds = 60);

}  // namespace psc::cli
