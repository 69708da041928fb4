/**
 * What the object storage tests share: the `add` fixture's request, a client that keeps sending it
 * and counts what it gets back, and the repository index read over HTTP.
 */
export const ADD_CONFIG = JSON.stringify({ max_batch_size: 8 });

/** Infers `add` (sum = a + b + the version's offset) with a = 1, b = 0: answers [version, sum[0]]. */
export async function inferAdd(
  url: string,
  version?: string,
): Promise<{ status: number; version: string; sum: number }> {
  const path = version ? `/v2/models/add/versions/${version}/infer` : '/v2/models/add/infer';
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [
        { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
        { name: 'b', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] },
      ],
      outputs: [{ name: 'sum' }],
    }),
  });
  const body = (await res.json()) as { model_version?: string; outputs?: Array<{ data: number[] }> };
  return { status: res.status, version: body.model_version ?? '', sum: body.outputs?.[0]?.data[0] ?? NaN };
}

export interface LoadLoop {
  /** Sum answered per version. */
  seen: Map<string, number>;
  ok: number;
  failed: string[];
  stop(): Promise<void>;
}

/** `clients` loops sending inferAdd back to back until stopped; every answer is counted. */
export function loadLoop(url: string, clients = 4): LoadLoop {
  const loop: LoadLoop = { seen: new Map(), ok: 0, failed: [], stop: async () => undefined };
  let running = true;
  const one = async (): Promise<void> => {
    while (running) {
      try {
        const r = await inferAdd(url);
        if (r.status === 200) {
          loop.ok += 1;
          loop.seen.set(r.version, r.sum);
        } else loop.failed.push(`status ${r.status}`);
      } catch (err) {
        loop.failed.push(String(err));
      }
    }
  };
  const all = Promise.all(Array.from({ length: clients }, one));
  loop.stop = async () => {
    running = false;
    await all;
  };
  return loop;
}

export interface IndexRow {
  name: string;
  version?: string;
  state: string;
  reason: string;
}

export async function repositoryIndex(url: string): Promise<IndexRow[]> {
  const res = await fetch(`${url}/v2/repository/index`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`index: ${res.status} ${await res.text()}`);
  return (await res.json()) as IndexRow[];
}

/** POST /v2/repository/models/{m}/load: status and body. */
export async function loadModel(url: string, model: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/v2/repository/models/${model}/load`, { method: 'POST' });
  return { status: res.status, body: await res.text() };
}

/** Polls until `check` holds, or fails after `ms`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
