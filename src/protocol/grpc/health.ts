/**
 * grpc.health.v1.Health for Kubernetes gRPC probes and grpc_health_probe. The overall service ('')
 * and inference.GRPCInferenceService are SERVING exactly when InferenceService.ready() (startup done,
 * not draining); any other service name is unknown (Check: NOT_FOUND; Watch: SERVICE_UNKNOWN, as
 * the health protocol specifies).
 *
 * Watch sends the current status at once, then every change. The service has no readiness events,
 * so watchers poll; `closeAll` ends every watch so that a graceful shutdown is not held up.
 */
import * as grpc from '@grpc/grpc-js';
import type { InferenceService } from '../../service/inference-service.js';

type Status = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
interface CheckRequest {
  service: string;
}
interface CheckResponse {
  status: Status;
}

const KNOWN_SERVICES = new Set(['', 'inference.GRPCInferenceService']);
const POLL_MS = 250;

export interface HealthService {
  handlers: grpc.UntypedServiceImplementation;
  /** Ends every open Watch (called on shutdown, after readiness turned NOT_SERVING). */
  closeAll(): void;
}

export function healthService(service: InferenceService): HealthService {
  const watchers = new Set<() => void>();
  const status = (name: string): Status =>
    !KNOWN_SERVICES.has(name) ? 'SERVICE_UNKNOWN' : service.ready() ? 'SERVING' : 'NOT_SERVING';

  const Check = (
    call: grpc.ServerUnaryCall<CheckRequest, CheckResponse>,
    cb: grpc.sendUnaryData<CheckResponse>,
  ): void => {
    const s = status(call.request.service);
    if (s === 'SERVICE_UNKNOWN') {
      cb({
        code: grpc.status.NOT_FOUND,
        details: `unknown service '${call.request.service}'; known: '' and inference.GRPCInferenceService`,
      });
    } else {
      cb(null, { status: s });
    }
  };

  const Watch = (call: grpc.ServerWritableStream<CheckRequest, CheckResponse>): void => {
    let last: Status | undefined;
    const send = (): void => {
      const s = status(call.request.service);
      if (s !== last) {
        last = s;
        call.write({ status: s });
      }
    };
    const timer = setInterval(send, POLL_MS);
    const stop = (): void => {
      clearInterval(timer);
      watchers.delete(finish);
    };
    const finish = (): void => {
      send();
      stop();
      call.end();
    };
    watchers.add(finish);
    call.once('cancelled', stop);
    send();
  };

  return {
    handlers: { Check, Watch },
    closeAll: () => {
      for (const finish of [...watchers]) finish();
    },
  };
}
