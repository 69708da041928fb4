/**
 * The deploy choices a user gives on the command line (`cdk deploy -c image=… -c key=value`),
 * checked before anything is synthesised: a bad value names the key, what it got and what is
 * allowed, instead of failing later inside CloudFormation.
 */

export interface InferdStackOptions {
  /** Container image URI; an ECR URI also grants the task's execution role pull on that repository. */
  image: string;
  /** Existing bucket name for the models; unset = the stack creates one (kept on teardown). */
  modelsBucket?: string;
  /** Key prefix of the model repository inside the bucket, without slashes at either end. */
  modelsPrefix: string;
  /** Fargate task size: vCPU units (1024 = 1 vCPU) and memory in MiB. */
  cpu: number;
  memoryMiB: number;
  /** Tasks at least / at most; the service starts with `minTasks`. */
  minTasks: number;
  maxTasks: number;
  /** Target of ALB requests per target per minute (ALBRequestCountPerTarget). */
  requestsPerTarget: number;
  /** NAT gateways for the private subnets (image pulls and logs go through them; S3 does not). */
  natGateways: number;
  /** ACM certificate: adds an HTTPS listener on 443 and gRPC routing to port 8081. */
  certificateArn?: string;
  /** Secrets Manager secret names: INFERD_ADMIN_TOKEN, INFERD_DATABASE_URL, INFERD_REDIS_URL. */
  adminTokenSecret?: string;
  databaseUrlSecret?: string;
  redisUrlSecret?: string;
}

export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

const IMAGE_EXAMPLE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/inferd:0.1.0';

type Lookup = (key: string) => unknown;

function text(get: Lookup, key: string): string | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') {
    throw new ContextError(`context ${key}: expected a string, got ${JSON.stringify(v)}`);
  }
  return String(v);
}

function int(get: Lookup, key: string, fallback: number, min: number, max: number): number {
  const raw = text(get, key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ContextError(
      `context ${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** Fargate's valid cpu → memory (MiB) pairs up to 4 vCPU (AWS ECS task size table). */
const FARGATE_MEMORY: Record<number, readonly number[]> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: Array.from({ length: 13 }, (_, i) => 4096 + i * 1024),
  4096: Array.from({ length: 23 }, (_, i) => 8192 + i * 1024),
};

/** Reads and checks the options; `get` is `app.node.tryGetContext`. */
export function readOptions(get: Lookup): InferdStackOptions {
  const image = text(get, 'image');
  if (image === undefined) {
    throw new ContextError(`context image is required: cdk deploy -c image=${IMAGE_EXAMPLE}`);
  }
  if (image.length > 255 || /\s/.test(image)) {
    throw new ContextError(`context image: not an image reference: ${JSON.stringify(image)}`);
  }
  const modelsPrefix = text(get, 'modelsPrefix') ?? 'models';
  if (!/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/.test(modelsPrefix)) {
    throw new ContextError(
      `context modelsPrefix: S3 key segments joined by '/', no leading or trailing '/', got ${JSON.stringify(modelsPrefix)}`,
    );
  }
  const modelsBucket = text(get, 'modelsBucket');
  if (modelsBucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(modelsBucket)) {
    throw new ContextError(`context modelsBucket: not an S3 bucket name: ${JSON.stringify(modelsBucket)}`);
  }
  const cpu = int(get, 'cpu', 1024, 256, 4096);
  const memoryMiB = int(get, 'memoryMiB', 2048, 512, 30720);
  if (!FARGATE_MEMORY[cpu]?.includes(memoryMiB)) {
    throw new ContextError(
      `context cpu=${cpu} memoryMiB=${memoryMiB}: not a Fargate task size; cpu is one of ${Object.keys(FARGATE_MEMORY).join(', ')} and memory one of its listed sizes`,
    );
  }
  const minTasks = int(get, 'minTasks', 2, 1, 1000);
  const maxTasks = int(get, 'maxTasks', 10, 1, 1000);
  if (maxTasks < minTasks) {
    throw new ContextError(`context maxTasks (${maxTasks}) must be at least minTasks (${minTasks})`);
  }
  const certificateArn = text(get, 'certificateArn');
  if (certificateArn !== undefined && !certificateArn.startsWith('arn:')) {
    throw new ContextError(
      `context certificateArn: expected an ACM certificate ARN, got ${JSON.stringify(certificateArn)}`,
    );
  }
  return {
    image,
    modelsBucket,
    modelsPrefix,
    cpu,
    memoryMiB,
    minTasks,
    maxTasks,
    requestsPerTarget: int(get, 'requestsPerTarget', 600, 1, 1_000_000),
    natGateways: int(get, 'natGateways', 1, 0, 3),
    certificateArn,
    adminTokenSecret: text(get, 'adminTokenSecret'),
    databaseUrlSecret: text(get, 'databaseUrlSecret'),
    redisUrlSecret: text(get, 'redisUrlSecret'),
  };
}

/** An ECR image URI split into its parts, or undefined for any other registry. */
export function parseEcrImage(
  image: string,
): { account: string; region: string; repository: string; tagOrDigest: string } | undefined {
  const m =
    /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+?)(?::([\w.-]{1,128})|@(sha256:[0-9a-f]{64}))?$/.exec(
      image,
    );
  if (!m) return undefined;
  return { account: m[1]!, region: m[2]!, repository: m[3]!, tagOrDigest: m[4] ?? m[5] ?? 'latest' };
}
