/** Bytes on the wire for one request and its response, per transport, from the real encoders. */
import type { InferenceResponse, Tensor } from '../../src/core/tensor.js';
import type { Transport } from '../../src/oip-client/types.js';
import { encodeJsonInput } from '../../src/oip-client/json-request.js';
import { encodeBinaryRequest } from '../../src/oip-client/rest-binary.js';
import { encodeInferRequest, encodeInferResponse } from '../../src/protocol/grpc/infer-codec.js';
import { loadProtos } from '../../src/protocol/grpc/proto-files.js';
import { binaryOutputs, encodeResponse } from '../../src/protocol/rest/binary-codec.js';

export function wireBytes(transport: Transport, input: Tensor): { request: number; response: number } {
  const output: Tensor = { ...input, name: 'y' };
  const response: InferenceResponse = { modelName: 'image', modelVersion: '1', outputs: [output] };
  const request = { modelName: 'image', inputs: [input] };
  switch (transport) {
    case 'rest-json':
      return {
        request: Buffer.byteLength(JSON.stringify({ inputs: [encodeJsonInput(input)] })),
        response: encodeResponse(response, () => false).body.length,
      };
    case 'rest-binary': {
      const { body } = encodeBinaryRequest(request);
      return {
        request: body.length,
        response: encodeResponse(
          response,
          binaryOutputs({ ...request, parameters: { binary_data_output: true } }),
        ).body.length,
      };
    }
    case 'grpc': {
      const infer = loadProtos().inference.service.ModelInfer!;
      return {
        request: infer.requestSerialize(encodeInferRequest(request, 'raw')).length,
        response: infer.responseSerialize(encodeInferResponse(response)).length,
      };
    }
  }
}
