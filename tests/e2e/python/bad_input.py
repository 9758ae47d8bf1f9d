"""Bad input from an independent client (Python grpcio) to a running pscd.

Generates Python modules of the repository's protos with protoc at run time,
then sends every method of every psc.v1 service bytes protobuf cannot parse
(random bytes, a truncated varint, a length past the end, deeply nested
groups, invalid UTF-8 in a string field), and every write method requests
whose every string is 100,000 characters long. Each must be answered
INVALID_ARGUMENT with a message saying what was wrong, never INTERNAL, an
empty message or a trailer too large to receive. Prints one line per check;
exits non-zero on the first failure.

usage: bad_input.py HOST:PORT PROTO_DIR
"""
import glob
import importlib
import os
import random
import re
import subprocess
import sys
import tempfile

import grpc

WRITES = {
    "psc.v1.IngestService": ["SubmitObservations", "ShareLearning", "WithdrawObservations",
                             "EraseLearning"],
    "psc.v1.CatalogService": ["ChangeCatalogue", "ChangeSpcLimits"],
    "psc.v1.PublicationService": ["PublishQuarter", "SignOffQuarter"],
}
# gRPC's default limit of received metadata: a trailer above it reaches the
# client as RESOURCE_EXHAUSTED instead of the server's answer.
METADATA_LIMIT = 8192


def generate(proto_root, out):
    files = sorted(os.path.relpath(p, proto_root)
                   for p in glob.glob(os.path.join(proto_root, "psc/v1/*.proto")))
    files += ["google/rpc/status.proto", "google/rpc/error_details.proto"]
    subprocess.run(["protoc", f"-I{proto_root}", "-I/usr/include", f"--python_out={out}"] + files,
                   check=True)
    sys.path.insert(0, out)


def check(condition, message):
    if not condition:
        print(f"FAIL {message}")
        raise SystemExit(1)
    print(f"ok   {message}")


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def delimited(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def first_string_path(descriptor, depth=0):
    """(wire bytes with invalid UTF-8 in the first string field, its path)."""
    from google.protobuf.descriptor import FieldDescriptor
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            index = "[0]" if field.label == FieldDescriptor.LABEL_REPEATED else ""
            return delimited(field.number, b"R\xc3\x28Z"), field.name + index
    if depth < 2:
        for field in descriptor.fields:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                inner = first_string_path(field.message_type, depth + 1)
                if inner is not None:
                    index = "[0]" if field.label == FieldDescriptor.LABEL_REPEATED else ""
                    return delimited(field.number, inner[0]), f"{field.name}{index}.{inner[1]}"
    return None


def fill_strings(message, value, depth=0):
    """Sets every string field to `value`, adding one element to repeated
    message fields, two levels deep."""
    from google.protobuf.descriptor import FieldDescriptor
    for field in message.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            if field.label == FieldDescriptor.LABEL_REPEATED:
                getattr(message, field.name).append(value)
            else:
                setattr(message, field.name, value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE and depth < 2 and \
                field.message_type.full_name != "google.protobuf.Timestamp":
            if field.label == FieldDescriptor.LABEL_REPEATED:
                fill_strings(getattr(message, field.name).add(), value, depth + 1)
            else:
                fill_strings(getattr(message, field.name), value, depth + 1)


def random_unparsable(rnd, types):
    """Random bytes that no request type parses (checked here with Python's
    own protobuf, so the case is garbage for every method)."""
    from google.protobuf import message_factory
    factory = message_factory.MessageFactory()
    classes = [factory.GetPrototype(t) for t in types]
    while True:
        noise = bytes(rnd.randrange(256) for _ in range(64))
        rejected = 0
        for cls in classes:
            try:
                cls.FromString(noise)
            except Exception:  # DecodeError, or a RuntimeWarning turned error
                rejected += 1
        if rejected == len(classes):
            return noise


def call(channel, path, payload):
    """(code, message, trailer bytes) of a unary call with raw bytes."""
    method = channel.unary_unary(path, request_serializer=lambda b: b,
                                 response_deserializer=lambda b: b)
    try:
        method(payload, timeout=20)
        return grpc.StatusCode.OK, "", 0, None
    except grpc.RpcError as error:
        trailers = error.trailing_metadata() or ()
        size = sum(len(k) + len(v) for k, v in trailers)
        details = dict(trailers).get("grpc-status-details-bin")
        return error.code(), error.details() or "", size, details


def violations(details_bin):
    status_pb2 = importlib.import_module("google.rpc.status_pb2")
    details_pb2 = importlib.import_module("google.rpc.error_details_pb2")
    if details_bin is None:
        return []
    rich = status_pb2.Status()
    rich.ParseFromString(details_bin)
    out = []
    for any_ in rich.details:
        bad = details_pb2.BadRequest()
        if any_.Unpack(bad):
            out += [(v.field, v.reason) for v in bad.field_violations]
    return out


def main():
    address, proto_root = sys.argv[1], sys.argv[2]
    rnd = random.Random(20250401)
    with tempfile.TemporaryDirectory() as out:
        generate(proto_root, out)
        modules = [importlib.import_module(f"psc.v1.{name}_pb2")
                   for name in ("ingest", "catalog_service", "query", "publication")]
        channel = grpc.insecure_channel(address)
        requests = [m.input_type for mod in modules for svc in mod.DESCRIPTOR.services_by_name.values()
                    for m in svc.methods]
        noise = random_unparsable(rnd, requests)
        garbage = {
            "random bytes": noise,
            "a truncated varint": b"\x20\x80",
            "a length past the end": b"\x0a\x40abc",
            "deeply nested garbage": b"\x7b" * 300,
            "wire type 7": b"\x0fjunk",
        }
        methods = 0
        for module in modules:
            for service in module.DESCRIPTOR.services_by_name.values():
                for method in service.methods:
                    methods += 1
                    path = f"/{service.full_name}/{method.name}"
                    for what, payload in garbage.items():
                        code, message, _, details = call(channel, path, payload)
                        check(code == grpc.StatusCode.INVALID_ARGUMENT and
                              "could not be parsed as " + method.input_type.full_name in message
                              and violations(details),
                              f"{path}: {what}: INVALID_ARGUMENT ({message})")
                    bad_utf8 = first_string_path(method.input_type)
                    if bad_utf8 is not None:
                        payload, field = bad_utf8
                        code, message, _, details = call(channel, path, payload)
                        check(code == grpc.StatusCode.INVALID_ARGUMENT and
                              f"{field}: is not valid UTF-8" in message and
                              (field, "INVALID_UTF8") in violations(details),
                              f"{path}: invalid UTF-8 in {field}: INVALID_ARGUMENT naming it")
        check(methods == 19, f"every method of the four services was tried ({methods})")

        huge = "A" * 100_000
        for module in modules:
            for service in module.DESCRIPTOR.services_by_name.values():
                for name in WRITES.get(service.full_name, []):
                    method = service.methods_by_name[name]
                    request_class = getattr(module, method.input_type.name, None)
                    if request_class is None:
                        request_class = importlib.import_module(
                            method.input_type.file.name.replace("/", ".")[:-len(".proto")] + "_pb2"
                        ).__dict__[method.input_type.name]
                    request = request_class()
                    fill_strings(request, huge)
                    path = f"/{service.full_name}/{name}"
                    code, message, size, details = call(channel, path, request.SerializeToString())
                    check(code == grpc.StatusCode.INVALID_ARGUMENT and message and
                          len(message) <= 1024 and size < METADATA_LIMIT // 2 and
                          huge[:1000] not in message and violations(details),
                          f"{path}: every string 100,000 characters: INVALID_ARGUMENT, "
                          f"{len(message)}-byte message, {size} bytes of trailers ({message[:160]})")

        # Valid ids, 100,000-character codes: the refusal quotes the code
        # clipped, with its length.
        ingest, query = modules[0], modules[2]
        cases = []
        submit = ingest.SubmitObservationsRequest(submission_id="py-long-code")
        row = submit.rows.add()
        row.ods_code, row.measure_id, row.month, row.numerator = huge, huge, "2024-04", 1
        cases.append(("/psc.v1.IngestService/SubmitObservations", submit))
        withdraw = ingest.WithdrawObservationsRequest(withdrawal_id="py-long-code", reason="test")
        key = withdraw.keys.add()
        key.ods_code, key.measure_id, key.month = huge, huge, "2024-04"
        cases.append(("/psc.v1.IngestService/WithdrawObservations", withdraw))
        history = query.GetValueHistoryRequest()
        history.key.ods_code, history.key.measure_id, history.key.month = huge, huge, "2024-04"
        cases.append(("/psc.v1.QueryService/GetValueHistory", history))
        for path, request in cases:
            code, message, size, details = call(channel, path, request.SerializeToString())
            check(code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND) and
                  "AAAA...' (100000 characters)" in message and len(message) <= 1024 and
                  size < METADATA_LIMIT // 2,
                  f"{path}: a 100,000-character code is quoted clipped ({message[:200]})")

        # 10,000 rows, each with a 100,000-character code: still one small error.
        request = ingest.SubmitObservationsRequest(submission_id="py-huge")
        for i in range(10_000):
            row = request.rows.add()
            row.ods_code, row.measure_id, row.month = "Z" * 100 + str(i), "falls-count.v1", "2024-04"
            row.numerator = 1
        code, message, size, details = call(channel, "/psc.v1.IngestService/SubmitObservations",
                                            request.SerializeToString())
        check(code == grpc.StatusCode.INVALID_ARGUMENT and re.search(r"\(and \d+ more\)$", message) and
              size < METADATA_LIMIT // 2 and violations(details)[-1][1] == "MORE_VIOLATIONS",
              f"10,000 bad rows: INVALID_ARGUMENT, {size} bytes of trailers, the rest counted")


if __name__ == "__main__":
    main()
