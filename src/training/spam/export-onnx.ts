/**
 * Assembles the served ONNX model: tokeniser and shape features (featurizer-graph.ts), the word
 * features and first layer computed sparsely (serving-head.ts), the rest of the trained classifier
 * + Platt calibration + evidence shrinkage (evidence.ts) + the validation-chosen threshold, in one file.
 *
 *   input  text         STRING [N]   one message per row (model text, see parse-mail.ts)
 *   output probability  FLOAT  [N]   calibrated P(spam)
 *   output label        STRING [N]   'spam' when probability >= threshold, else 'ham'
 *
 * Deterministic: the same parameters give byte-identical bytes (buildModel is deterministic and
 * metadata is inserted in a fixed order).
 */
import { buildModel, type InitTensor, type NodeSpec } from '../graph-builder.js';
import type { ClassifierParams } from './classifier.js';
import type { Platt } from './calibrate.js';
import { evidenceNodes, type Evidence } from './evidence.js';
import { shapeFeatureNodes, tokenizerNodes, type Vocabulary } from './featurizer-graph.js';
import { sparseHeadNodes } from './serving-head.js';

/** Opset 20 for StringSplit/RegexFullMatch; ai.onnx.ml for LabelEncoder. */
const OPSET = 20;
const ML_OPSET = 3;
const LABELS = ['ham', 'spam'] as const;

export interface ExportInput {
  vocab: Vocabulary;
  params: ClassifierParams;
  platt: Platt;
  threshold: number;
  /** Shrink scores with few known words towards the prior (evidence.ts); absent: no shrinkage. */
  evidence?: Evidence;
  metadata: Record<string, string>;
}

/**
 * The classifier after its first layer's product `c_first` = features · W (the sparse head computes
 * that): bias, and for the MLP ReLU and the output layer; ends in `c_z1` [N, 1].
 */
function classifierTail(p: ClassifierParams): { nodes: NodeSpec[]; initializers: InitTensor[] } {
  if (p.hidden === 0) {
    return {
      initializers: [{ name: 'c_b', type: 'FLOAT', dims: [1], values: [p.b2] }],
      nodes: [{ op: 'Add', inputs: ['c_first', 'c_b'], outputs: ['c_z1'] }],
    };
  }
  return {
    initializers: [
      { name: 'c_b1', type: 'FLOAT', dims: [p.hidden], values: p.b1 },
      { name: 'c_w2', type: 'FLOAT', dims: [p.hidden, 1], values: p.w2 },
      { name: 'c_b2', type: 'FLOAT', dims: [1], values: [p.b2] },
    ],
    nodes: [
      { op: 'Add', inputs: ['c_first', 'c_b1'], outputs: ['c_h1'] },
      { op: 'Relu', inputs: ['c_h1'], outputs: ['c_h'] },
      { op: 'MatMul', inputs: ['c_h', 'c_w2'], outputs: ['c_z0'] },
      { op: 'Add', inputs: ['c_z0', 'c_b2'], outputs: ['c_z1'] },
    ],
  };
}

/** Builds the full model's bytes. */
export function exportSpamModel(m: ExportInput): Uint8Array {
  const tok = tokenizerNodes();
  const shape = shapeFeatureNodes();
  const first = m.params.hidden === 0 ? m.params.w2 : m.params.w1;
  const head = sparseHeadNodes(m.vocab, first, Math.max(1, m.params.hidden), 'c_first');
  const cls = classifierTail(m.params);
  const shrink = m.evidence && evidenceNodes(m.evidence, 'o_zc', 'f_known', 'o_zs');
  const nodes: NodeSpec[] = [
    ...tok.nodes,
    ...shape.nodes,
    ...head.nodes,
    ...cls.nodes,
    // [N, 1] -> [N]: Flatten to rank 1 is not a thing, so reshape with the known -1.
    { op: 'Reshape', inputs: ['c_z1', 'o_shape'], outputs: ['logit'] },
    { op: 'Mul', inputs: ['logit', 'o_platt_a'], outputs: ['o_za'] },
    { op: 'Add', inputs: ['o_za', 'o_platt_b'], outputs: ['o_zc'] },
    ...(shrink?.nodes ?? []),
    { op: 'Sigmoid', inputs: [shrink ? 'o_zs' : 'o_zc'], outputs: ['probability'] },
    { op: 'GreaterOrEqual', inputs: ['probability', 'o_threshold'], outputs: ['o_is_spam'] },
    { op: 'Cast', inputs: ['o_is_spam'], outputs: ['o_is_spam_i'], attrs: { to: 7 } },
    {
      op: 'LabelEncoder',
      domain: 'ai.onnx.ml',
      inputs: ['o_is_spam_i'],
      outputs: ['label'],
      attrs: { keys_int64s: [0, 1], values_strings: [...LABELS], default_string: 'ham' },
    },
  ];
  const initializers: InitTensor[] = [
    ...tok.initializers,
    ...shape.initializers,
    ...head.initializers,
    ...cls.initializers,
    ...(shrink?.initializers ?? []),
    { name: 'o_shape', type: 'INT64', dims: [1], values: [-1] },
    { name: 'o_platt_a', type: 'FLOAT', dims: [], values: [m.platt.a] },
    { name: 'o_platt_b', type: 'FLOAT', dims: [], values: [m.platt.b] },
    { name: 'o_threshold', type: 'FLOAT', dims: [], values: [m.threshold] },
  ];
  return buildModel({
    name: 'spam',
    opset: OPSET,
    extraOpsets: { 'ai.onnx.ml': ML_OPSET },
    inputs: [{ name: 'text', type: 'STRING', shape: ['N'] }],
    outputs: [
      { name: 'probability', type: 'FLOAT', shape: ['N'] },
      { name: 'label', type: 'STRING', shape: ['N'] },
    ],
    nodes,
    initializers,
    producer: 'inferd-train-spam',
    docString: 'Spam/phishing detector: raw message text in, calibrated P(spam) and label out.',
    metadata: m.metadata,
  });
}
