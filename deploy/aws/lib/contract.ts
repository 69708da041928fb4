/**
 * What the ECS deployment assumes of the inferd container, in one place so that the stack and its
 * tests (test/deploy/aws-stack.test.ts) read the same numbers. Ports and setting names come from
 * the server's own settings table (src/config.ts), so a renamed setting breaks the build here.
 */
import { SETTING_SOURCES } from '../../../src/config.js';

/** HTTP (REST v2, /v1, /metrics) and gRPC ports: inferd's defaults, set explicitly in the task. */
export const HTTP_PORT = 8080;
export const GRPC_PORT = 8081;

/** Liveness = the event loop answers; readiness = models loaded and not draining (DESIGN §6). */
export const LIVE_PATH = '/v2/health/live';
export const READY_PATH = '/v2/health/ready';

/** The image's unprivileged user (uid:gid); the task never runs as root. */
export const CONTAINER_USER = '1000';

/**
 * Writable paths of a read-only root filesystem, each an ephemeral task volume: the embedded key
 * store and object-storage model cache (the data directory), and the temp dir Node and
 * onnxruntime write to.
 */
export const DATA_DIR = '/var/lib/inferd';
export const TMP_DIR = '/tmp';

/**
 * Shutdown, in order (ECS with an ALB): the target is deregistered and the ALB sends it no new
 * request; after DEREGISTRATION_DELAY_S the task gets SIGTERM; inferd turns readiness 503, refuses
 * new inference with 503 server_draining, finishes in-flight requests for at most DRAIN_MS, closes
 * and exits 0; ECS sends SIGKILL STOP_TIMEOUT_S after SIGTERM. So STOP_TIMEOUT_S must exceed the
 * drain by the time the process needs to unload models and exit (5 s is ample: sessions release
 * in well under a second). Fargate allows at most 120 s.
 */
export const DEREGISTRATION_DELAY_S = 30;
export const DRAIN_MS = 30_000;
export const EXIT_MARGIN_S = 5;
export const STOP_TIMEOUT_S = DRAIN_MS / 1000 + EXIT_MARGIN_S;

/** The `INFERD_*` variable of a setting (src/config.ts derives it from the setting's key). */
export const envName = (key: keyof typeof SETTING_SOURCES): string => SETTING_SOURCES[key].env;
