"""An independent gRPC client (Python grpcio) against a running psc server.

Generates Python stubs from the repository's .proto files at run time, then
checks what any gRPC tool relies on: health checking, server reflection, and
rich error details (google.rpc.Status with a google.rpc.BadRequest in the
grpc-status-details-bin trailer). Prints one line per check; exits non-zero
on the first failure.

usage: independent_client.py HOST:PORT PROTO_DIR SERVICE[,SERVICE...] [--ingest]

SERVICE: a service reflection must list. --ingest also submits a bad
batch (the server must hold no catalogue) and checks the error details.
"""
import importlib
import os
import sys
import tempfile

from grpc_tools import protoc
import grpc


def generate(proto_root, test_root, out):
    # The grpc.* protos are compiled from copies under another folder name:
    # their Python modules must not shadow the grpc package itself (the
    # proto package, and so the names on the wire, stay grpc.*).
    staged = os.path.join(out, "staged")
    for source, name in ((os.path.join(proto_root, "grpc/health/v1/health.proto"), "health.proto"),
                         (os.path.join(test_root, "grpc/reflection/v1alpha/reflection.proto"),
                          "reflection.proto")):
        os.makedirs(os.path.join(staged, "wire"), exist_ok=True)
        with open(source) as f, open(os.path.join(staged, "wire", name), "w") as g:
            g.write(f.read())
    files = [
        "google/rpc/status.proto",
        "google/rpc/error_details.proto",
    ]
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    args = ["protoc", f"-I{proto_root}", f"-I{staged}", f"-I{include}",
            f"--python_out={out}", f"--grpc_python_out={out}"]
    for f in files:
        if protoc.main(args + [f]) != 0:
            raise SystemExit(f"protoc failed on {f}")
    for name in ("wire/health.proto", "wire/reflection.proto"):
        if protoc.main(args + [name]) != 0:
            raise SystemExit(f"protoc failed on {name}")
    sys.path.insert(0, out)


def check(condition, message):
    if not condition:
        print(f"FAIL {message}")
        raise SystemExit(1)
    print(f"ok   {message}")


def main():
    address, proto_root, wanted_services = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    with_ingest = "--ingest" in sys.argv[4:]
    test_root = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as out:
        generate(proto_root, test_root, out)
        health_pb2 = importlib.import_module("wire.health_pb2")
        health_grpc = importlib.import_module("wire.health_pb2_grpc")
        reflection_pb2 = importlib.import_module("wire.reflection_pb2")
        reflection_grpc = importlib.import_module("wire.reflection_pb2_grpc")
        status_pb2 = importlib.import_module("google.rpc.status_pb2")
        details_pb2 = importlib.import_module("google.rpc.error_details_pb2")

        channel = grpc.insecure_channel(address)
        health = health_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=10)
        check(health.status == health_pb2.HealthCheckResponse.SERVING, "health: SERVING")

        stub = reflection_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol=wanted_services[0]),
        ]
        responses = list(stub.ServerReflectionInfo(iter(requests), timeout=10))
        services = sorted(s.name for s in responses[0].list_services_response.service)
        print("     services:", ", ".join(services))
        for wanted in wanted_services + ["grpc.health.v1.Health"]:
            check(wanted in services, f"reflection lists {wanted}")
        # Build the psc.v1 message classes from the descriptors the server
        # serves, as a reflection-driven tool (grpcurl, say) would.
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        pending = {}
        for raw in responses[1].file_descriptor_response.file_descriptor_proto:
            fd = descriptor_pb2.FileDescriptorProto()
            fd.ParseFromString(raw)
            pending[fd.name] = fd
        check(pending, f"reflection serves the file of {wanted_services[0]}")
        pool = descriptor_pool.DescriptorPool()
        added = set()
        while pending:
            ready = [n for n, fd in pending.items() if all(d in added for d in fd.dependency)]
            if not ready:
                check(False, f"reflection serves every dependency (missing for {sorted(pending)})")
            for name in ready:
                pool.Add(pending.pop(name))
                added.add(name)
        check(True, f"descriptors of {len(added)} files form a complete pool")
        if not with_ingest:
            return
        factory = message_factory.MessageFactory(pool)
        Request = factory.GetPrototype(pool.FindMessageTypeByName("psc.v1.SubmitObservationsRequest"))
        Receipt = factory.GetPrototype(pool.FindMessageTypeByName("psc.v1.Receipt"))
        request = Request(submission_id="py-1")
        row = request.rows.add()
        row.ods_code, row.measure_id, row.month = "NOSUCH", "falls-harm-rate.v1", "2024-04"
        row.numerator, row.denominator = 1, 10
        submit = channel.unary_unary("/psc.v1.IngestService/SubmitObservations",
                                     request_serializer=lambda m: m.SerializeToString(),
                                     response_deserializer=Receipt.FromString)
        try:
            submit(request, timeout=10)
            check(False, "bad submission refused")
        except grpc.RpcError as error:
            check(error.code() == grpc.StatusCode.INVALID_ARGUMENT, "bad submission: INVALID_ARGUMENT")
            trailer = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
            check(trailer is not None, "grpc-status-details-bin trailer present")
            rich = status_pb2.Status()
            rich.ParseFromString(trailer)
            check(rich.code == 3, "google.rpc.Status code 3")
            bad = details_pb2.BadRequest()
            check(rich.details[0].Unpack(bad), "details hold a google.rpc.BadRequest")
            fields = [v.field for v in bad.field_violations]
            print("     violations:", fields)
            check(fields == ["rows[0].ods_code", "rows[0].measure_id"],
                  "the violations name rows[0].ods_code and rows[0].measure_id")


if __name__ == "__main__":
    main()
