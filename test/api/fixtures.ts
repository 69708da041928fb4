/**
 * Fixture models for the customer API: `spam` (same tensors as models/spam: text STRING [N] →
 * probability FLOAT [N], label STRING [N]; "buy now" is spam, anything else ham) and `ocr_echo`
 * (BYTES image → the same bytes as `result`, so an uploaded JSON document comes back parsed), each
 * with a signature in its config.json, plus the plain fixture models (no signature).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel } from '../../src/training/graph-builder.js';
import { makeFixtureRepository } from '../fixtures/repository.js';

const SPAM_SIGNATURE = {
  task: 'text-classification',
  summary: 'Spam or ham for one text or a list of texts.',
  inputs: [
    {
      field: 'text',
      type: 'string',
      tensor: 'text',
      batch_field: 'texts',
      max_length: 100000,
      description: 'The message (subject and body) to classify.',
      example: 'WIN a FREE prize, buy now!',
    },
  ],
  outputs: [
    { field: 'label', type: 'string', tensor: 'label', description: '`spam` or `ham`.' },
    { field: 'score', type: 'number', tensor: 'probability', description: 'Probability of spam, 0 to 1.' },
  ],
};

const OCR_SIGNATURE = {
  task: 'ocr',
  summary: 'Text and lines found in one image.',
  inputs: [
    { field: 'image', type: 'image', tensor: 'image', description: 'A PNG, JPEG, WebP or TIFF image.' },
  ],
  outputs: [
    {
      field: 'result',
      type: 'json',
      tensor: 'result',
      spread: true,
      schema: {
        type: 'object',
        properties: {
          text: { type: 'string' },
          lines: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                text: { type: 'string' },
                confidence: { type: 'number' },
                box: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
              },
            },
          },
        },
      },
    },
  ],
};

function spamModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'text', type: 'STRING', shape: ['N'] }],
    outputs: [
      { name: 'probability', type: 'FLOAT', shape: ['N'] },
      { name: 'label', type: 'STRING', shape: ['N'] },
    ],
    extraOpsets: { 'ai.onnx.ml': 2 },
    nodes: [
      {
        op: 'StringNormalizer',
        inputs: ['text'],
        outputs: ['lower'],
        attrs: { case_change_action: 'LOWER', locale: 'C.UTF-8' },
      },
      {
        op: 'LabelEncoder',
        domain: 'ai.onnx.ml',
        inputs: ['lower'],
        outputs: ['probability'],
        attrs: {
          keys_strings: ['buy now'],
          values_floats: new Float32Array([0.96875]),
          default_float: 0.125,
        },
        floatAttrs: ['default_float'],
      },
      {
        op: 'LabelEncoder',
        domain: 'ai.onnx.ml',
        inputs: ['lower'],
        outputs: ['label'],
        attrs: { keys_strings: ['buy now'], values_strings: ['spam'], default_string: 'ham' },
      },
    ],
  });
}

function echoModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'image', type: 'STRING', shape: [1] }],
    outputs: [{ name: 'result', type: 'STRING', shape: [1] }],
    nodes: [{ op: 'Identity', inputs: ['image'], outputs: ['result'] }],
  });
}

function write(root: string, name: string, bytes: Uint8Array, config: object): void {
  mkdirSync(join(root, name, '1'), { recursive: true });
  writeFileSync(join(root, name, '1', 'model.onnx'), bytes);
  writeFileSync(join(root, name, 'config.json'), JSON.stringify(config, null, 2));
}

export function makeApiRepository(): string {
  const root = makeFixtureRepository();
  write(root, 'spam', spamModel(), {
    max_batch_size: 64,
    dynamic_batching: { max_queue_delay_microseconds: 500 },
    aliases: { production: '1' },
    signature: SPAM_SIGNATURE,
  });
  write(root, 'ocr_echo', echoModel(), { max_batch_size: 0, signature: OCR_SIGNATURE });
  return root;
}
