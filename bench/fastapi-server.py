"""FastAPI + PyTorch baseline for bench/fast-defaults.mjs: the same math as the `affine` model
(y = 2x + b over FP32 [N, 4]) behind the same Open Inference Protocol JSON request and answer, one
uvicorn worker, as a Python developer would write it first (no batching, no queue).
Debian bookworm packages: python3-torch python3-fastapi python3-uvicorn (run with /usr/bin/python3).
Usage: /usr/bin/python3 bench/fastapi-server.py --port 8092 [--name affine]
"""
import argparse

import torch
import uvicorn
from fastapi import FastAPI, HTTPException, Request

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=8092)
parser.add_argument("--name", default="affine")
args = parser.parse_args()

B = torch.tensor([1.0, 2.0, 3.0, 4.0])
app = FastAPI()


@app.get("/v2/health/ready")
async def ready():
    return {}


@app.post(f"/v2/models/{args.name}/infer")
async def infer(request: Request):
    body = await request.json()
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not inputs or inputs[0].get("name") != "x":
        raise HTTPException(status_code=400, detail="needs input x")
    x = inputs[0]
    with torch.no_grad():
        t = torch.tensor(x["data"], dtype=torch.float32).reshape(x["shape"])
        y = 2 * t + B
    answer = {
        "model_name": args.name,
        "model_version": "1",
        "outputs": [{"name": "y", "datatype": "FP32", "shape": list(y.shape), "data": y.flatten().tolist()}],
    }
    if "id" in body:
        answer["id"] = body["id"]
    return answer


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=args.port, workers=1, log_level="warning", access_log=False)
