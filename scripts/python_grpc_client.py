#!/usr/bin/env python3
"""Calls inferd over gRPC from Python with stubs generated from OUR proto/ files, the way a
KServe or Triton user would: ServerReady, ModelMetadata and ModelInfer on the `add` fixture
(raw_input_contents and typed contents), grpc.health.v1 Check, and the service list from server
reflection (v1alpha). Prints one JSON object.

Usage: python3 scripts/python_grpc_client.py HOST:PORT [PROTO_DIR]
Needs the grpcio and grpcio-tools modules (Debian: python3-grpcio python3-grpc-tools).
"""
import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile


def generate_stubs(proto_dir, out_dir):
    files = ["grpc_service.proto", "triton/model_config.proto", "health.proto", "reflection_v1alpha.proto"]
    cmd = [sys.executable, "-m", "grpc_tools.protoc", "-I", proto_dir,
           "--python_out", out_dir, "--grpc_python_out", out_dir] + files
    subprocess.run(cmd, check=True, cwd=proto_dir)
    sys.path.insert(0, out_dir)


def main():
    target = sys.argv[1]
    proto_dir = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else
                                os.path.join(os.path.dirname(__file__), "..", "proto"))
    import grpc  # noqa: E402  (after argument parsing so usage errors stay cheap)

    with tempfile.TemporaryDirectory(prefix="inferd-pystubs-") as out_dir:
        generate_stubs(proto_dir, out_dir)
        pb = importlib.import_module("grpc_service_pb2")
        rpc = importlib.import_module("grpc_service_pb2_grpc")
        health_pb = importlib.import_module("health_pb2")
        health_rpc = importlib.import_module("health_pb2_grpc")
        refl_pb = importlib.import_module("reflection_v1alpha_pb2")
        refl_rpc = importlib.import_module("reflection_v1alpha_pb2_grpc")

        channel = grpc.insecure_channel(target)
        stub = rpc.GRPCInferenceServiceStub(channel)
        out = {}
        out["server_ready"] = stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready

        md = stub.ModelMetadata(pb.ModelMetadataRequest(name="add"), timeout=10)
        out["metadata"] = {
            "name": md.name,
            "platform": md.platform,
            "inputs": [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in md.inputs],
        }

        # raw_input_contents: little-endian FP32, one entry per input.
        a, b = [1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]
        req = pb.ModelInferRequest(model_name="add", id="py-raw")
        for name in ("a", "b"):
            t = req.inputs.add()
            t.name, t.datatype = name, "FP32"
            t.shape.extend([1, 4])
        req.raw_input_contents.extend([struct.pack("<4f", *a), struct.pack("<4f", *b)])
        res = stub.ModelInfer(req, timeout=10)
        out["raw"] = {
            "id": res.id,
            "outputs": {o.name: list(struct.unpack("<4f", res.raw_output_contents[i]))
                        for i, o in enumerate(res.outputs)},
        }

        # Typed contents in: the answer still comes back in raw_output_contents, as Triton answers.
        req = pb.ModelInferRequest(model_name="add", id="py-typed")
        for name, vals in (("a", a), ("b", b)):
            t = req.inputs.add()
            t.name, t.datatype = name, "FP32"
            t.shape.extend([1, 4])
            t.contents.fp32_contents.extend(vals)
        res = stub.ModelInfer(req, timeout=10)
        out["typed"] = {
            "id": res.id,
            "typed_fields": sum(len(o.contents.fp32_contents) for o in res.outputs),
            "outputs": {o.name: list(struct.unpack("<4f", res.raw_output_contents[i]))
                        for i, o in enumerate(res.outputs)},
        }

        # An error: status code plus our code in the trailing metadata.
        try:
            stub.ModelMetadata(pb.ModelMetadataRequest(name="nope"), timeout=10)
            out["error"] = None
        except grpc.RpcError as err:
            trailers = dict(err.trailing_metadata() or ())
            out["error"] = {"status": err.code().name, "code": trailers.get("inferd-error-code"),
                            "details": err.details()}

        health = health_rpc.HealthStub(channel)
        out["health"] = health_pb.HealthCheckResponse.ServingStatus.Name(
            health.Check(health_pb.HealthCheckRequest(service=""), timeout=10).status)
        reflection = refl_rpc.ServerReflectionStub(channel)
        answers = reflection.ServerReflectionInfo(iter([refl_pb.ServerReflectionRequest(list_services="")]), timeout=10)
        out["reflection_services"] = sorted(s.name for a in answers for s in a.list_services_response.service)
        channel.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
