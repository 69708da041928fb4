/**
 * The request deserializer of ModelInfer and ModelStreamInfer (issue 23, finding 1). grpc-js calls
 * it with a message's bytes before any handler runs, and hands what it returns to the handler. It
 * scans the bytes (request-scan.ts), resolves the model and refuses what the server or the model
 * cannot take, before protobufjs builds anything; then protobufjs decodes everything but the typed
 * contents, which contents-decode.ts decodes into typed storage.
 *
 * A refusal is returned, not thrown: grpc-js would answer a throw with INTERNAL "Error
 * deserializing request". The handler finds it with refusalOf and answers it like any other error
 * (our status, message and `inferd-error-code`).
 */
import type * as grpc from '@grpc/grpc-js';
import { InferdError, toInferdError } from '../../errors.js';
import { admitInputs, serverAdmission, tooManyElements, type Admission } from '../../service/admission.js';
import type { Admitted, InferenceService } from '../../service/inference-service.js';
import { decodeContents } from './contents-decode.js';
import { tensorHeader } from './infer-codec.js';
import { newScan, scanInferRequest } from './request-scan.js';
import type { WireInferRequest } from './wire-types.js';

const REFUSED = Symbol('inferd.refused');
const ADMITTED = Symbol('inferd.admitted');
type Marked = WireInferRequest & { [REFUSED]?: InferdError; [ADMITTED]?: Admitted };

/** The refusal the deserializer put in place of a request, if any. */
export function refusalOf(w: WireInferRequest): InferdError | undefined {
  return (w as Marked)[REFUSED];
}

/** The model version the deserializer admitted for the request (service.admit), if it named one. */
export function admittedOf(w: WireInferRequest): Admitted | undefined {
  return (w as Marked)[ADMITTED];
}

/**
 * ModelInferRequest.InferInputTensor.contents is field 5 (tag byte 0x2A); field 15 is not in the
 * schema, so protobufjs skips it without decoding it. Both tags fit the low 7 bits of one byte, so
 * the swap never changes the message's length.
 */
const CONTENTS = (5 << 3) | 2;
const HIDDEN_CONTENTS = (15 << 3) | 2;

const text = (buf: Buffer, range: [number, number] | undefined): string =>
  range ? buf.toString('utf8', range[0], range[1]) : '';

export function inferRequestDeserializer(
  decode: (buf: Buffer) => WireInferRequest,
  service: InferenceService,
): (buf: Buffer) => WireInferRequest {
  return (buf) => {
    const scan = newScan(service.maxRequestElements);
    let admission: Admission = serverAdmission(service.maxRequestElements);
    let admitted: Admitted | undefined;
    try {
      scanInferRequest(buf, scan, () => {
        const name = text(buf, scan.modelName);
        if (!name) return Infinity; // decodeInferRequest says model_name is required
        // Unknown model or version, or draining: refused before anything is decoded.
        admitted = service.admit(name, text(buf, scan.modelVersion) || undefined);
        admission = admitted.admission;
        return admission.maxElements;
      });
      // The tags are swapped in place and put back after decoding (a copy would double the
      // memory of a large message): the bytes are as grpc-js gave them once this returns.
      const tags = scan.inputs.flatMap((i) => i.tags);
      for (const at of tags) buf[at] = (buf[at]! & 0x80) | HIDDEN_CONTENTS;
      let wire: WireInferRequest;
      try {
        wire = decode(buf);
      } catch {
        throw new InferdError('invalid_request', 'the ModelInferRequest message cannot be decoded');
      } finally {
        for (const at of tags) buf[at] = (buf[at]! & 0x80) | CONTENTS;
      }
      if (scan.over) {
        // More than the server or the model takes: the model's header checks say why when they
        // can (e.g. a batch over max_batch_size), the count otherwise. No contents are decoded.
        if (admitted)
          admitInputs(
            wire.inputs.map((t, i) => tensorHeader(t, i)),
            admission,
          );
        admission.refused?.();
        throw tooManyElements(`more than ${scan.limit}`, admission);
      }
      scan.inputs.forEach((input, i) => {
        if (input.tags.length > 0) wire.inputs[i]!.contents = decodeContents(buf, input);
      });
      if (admitted) (wire as Marked)[ADMITTED] = admitted;
      return wire;
    } catch (err) {
      const refused: WireInferRequest & { [REFUSED]: InferdError } = {
        model_name: text(buf, scan.modelName),
        model_version: text(buf, scan.modelVersion),
        id: text(buf, scan.id),
        inputs: [],
        [REFUSED]: toInferdError(err),
      };
      return refused;
    }
  };
}

/** The inference service definition with ModelInfer and ModelStreamInfer requests guarded. */
export function guardInferRequests(
  definition: grpc.ServiceDefinition,
  service: InferenceService,
): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...definition };
  for (const name of ['ModelInfer', 'ModelStreamInfer']) {
    const method = definition[name]!;
    out[name] = {
      ...method,
      requestDeserialize: inferRequestDeserializer(
        method.requestDeserialize as (buf: Buffer) => WireInferRequest,
        service,
      ),
    };
  }
  return out as grpc.ServiceDefinition;
}
