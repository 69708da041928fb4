/**
 * Scores texts with a spam ONNX model through onnxruntime-node, in batches. Used by training (the
 * reported test metrics come from the exported file, not from TypeScript arithmetic), by
 * `evaluate`, and by the tests.
 */
import ort from 'onnxruntime-node';

export interface Scores {
  probability: Float32Array;
  label: string[];
}

export async function openModel(model: string | Uint8Array): Promise<ort.InferenceSession> {
  const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1 };
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, opts)
    : ort.InferenceSession.create(model, opts);
}

/** Runs `texts` through the model `batchSize` rows at a time; output order follows input order. */
export async function scoreTexts(
  session: ort.InferenceSession,
  texts: readonly string[],
  batchSize = 16,
  onProgress?: (done: number, total: number) => void,
): Promise<Scores> {
  const probability = new Float32Array(texts.length);
  const label: string[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    const r = await session.run({ text: new ort.Tensor('string', [...batch], [batch.length]) });
    probability.set((r['probability'] as ort.Tensor).data as Float32Array, start);
    label.push(...((r['label'] as ort.Tensor).data as string[]));
    onProgress?.(Math.min(start + batchSize, texts.length), texts.length);
  }
  return { probability, label };
}
