/**
 * OpenAPI 3.1 document of the customer API, generated from the loaded models' signatures on every
 * request (models load and unload at run time). One predict path per model with its own request and
 * response schemas and an example, plus /v1/usage. Errors share one RFC 9457 Problem schema.
 */
import { accountPaths } from './account-openapi.js';
import type { InferenceService } from '../../service/inference-service.js';
import { VERSION } from '../../version.js';
import { trySignature, type Signature, type SignatureInput, type SignatureOutput } from './signature.js';
import { feedbackOp } from './feedback-openapi.js';

type Schema = Record<string, unknown>;

const TYPE: Record<string, Schema> = {
  string: { type: 'string' },
  number: { type: 'number' },
  integer: { type: 'integer' },
  image: { type: 'string', contentEncoding: 'base64' },
  json: { type: 'object' },
};

function inputProps(s: SignatureInput): Record<string, Schema> {
  const base: Schema = { ...TYPE[s.type], ...(s.description ? { description: s.description } : {}) };
  if (s.max_length) base.maxLength = s.max_length;
  if (s.example !== undefined) base.examples = [s.example];
  if (s.type === 'image')
    return { [`${s.field}_base64`]: { ...base, description: `${s.description ?? 'Image'} (base64)` } };
  const props: Record<string, Schema> = { [s.field]: base };
  if (s.batch_field) props[s.batch_field] = { type: 'array', items: { ...TYPE[s.type] }, minItems: 1 };
  return props;
}

function itemSchema(outs: SignatureOutput[]): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const o of outs) {
    const s: Schema = o.type === 'json' ? (o.schema ?? { type: 'object' }) : { ...TYPE[o.type] };
    if (o.spread && s.properties && typeof s.properties === 'object') {
      Object.assign(properties, s.properties);
      continue;
    }
    properties[o.field] = o.description ? { ...s, description: o.description } : s;
    required.push(o.field);
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

function requestSchema(sig: Signature): Schema {
  const properties: Record<string, Schema> = {};
  for (const s of sig.inputs) Object.assign(properties, inputProps(s));
  return { type: 'object', properties, additionalProperties: false };
}

function example(sig: Signature): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const s of sig.inputs) {
    if (s.example === undefined) return undefined;
    out[s.type === 'image' ? `${s.field}_base64` : s.field] = s.example;
  }
  return out;
}

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const ERRORS = {
  '400': problem('Invalid request (code invalid_json, invalid_request, invalid_input, missing_input)'),
  '401': problem('Missing, invalid, expired or revoked API key'),
  '403': problem('The key may not call this model'),
  '404': problem('Unknown model or version'),
  '413': problem('Body larger than the plan allows'),
  '429': problem('rate_limited (retry after Retry-After) or quota_exceeded (x-should-retry: false)'),
  '503': problem('Model unavailable or queue full; retry'),
};

function predictOp(name: string, sig: Signature, versioned: boolean): Schema {
  const hasImage = sig.inputs.some((i) => i.type === 'image');
  const item = itemSchema(sig.outputs);
  const batch = sig.inputs[0]?.batch_field;
  const ex = example(sig);
  const json: Schema = { schema: requestSchema(sig), ...(ex ? { example: ex } : {}) };
  const content: Record<string, Schema> = { 'application/json': json };
  if (hasImage) {
    const properties: Record<string, Schema> = {};
    for (const s of sig.inputs) {
      properties[s.field] = s.type === 'image' ? { type: 'string', format: 'binary' } : { ...TYPE[s.type] };
    }
    content['multipart/form-data'] = {
      schema: { type: 'object', properties, required: sig.inputs.map((i) => i.field) },
    };
  }
  return {
    operationId: `predict_${name.replace(/[^A-Za-z0-9_]/g, '_')}${versioned ? '_version' : ''}`,
    summary: `${name}: ${sig.summary ?? sig.task}`,
    tags: [name],
    ...(versioned
      ? {
          parameters: [
            {
              name: 'version',
              in: 'path',
              required: true,
              description: 'Version number or alias (e.g. production)',
              schema: { type: 'string' },
            },
          ],
        }
      : {}),
    requestBody: { required: true, content },
    responses: {
      '200': {
        description: batch ? `One result, or {"results": [...]} when '${batch}' is sent` : 'The result',
        headers: {
          RateLimit: { schema: { type: 'string' } },
          'RateLimit-Policy': { schema: { type: 'string' } },
          'x-request-id': { schema: { type: 'string' } },
        },
        content: {
          'application/json': {
            schema: batch
              ? {
                  oneOf: [
                    item,
                    {
                      type: 'object',
                      properties: { results: { type: 'array', items: item } },
                      required: ['results'],
                    },
                  ],
                }
              : item,
          },
        },
      },
      ...ERRORS,
    },
  };
}

export async function buildOpenApi(service: InferenceService, serverUrl?: string): Promise<Schema> {
  const paths: Record<string, Schema> = {};
  const index = await service.repositoryIndex();
  for (const name of [...new Set(index.map((e) => e.name))].sort()) {
    let cfg;
    try {
      cfg = service.modelConfig(name);
    } catch {
      continue; // not loaded: no endpoint to document
    }
    const sig = trySignature(name, cfg.signature);
    if (!sig) continue;
    paths[`/v1/models/${name}/predict`] = { post: predictOp(name, sig, false) };
    paths[`/v1/models/${name}/versions/{version}/predict`] = { post: predictOp(name, sig, true) };
    paths[`/v1/models/${name}/feedback`] = { post: feedbackOp(name, cfg.labels, ERRORS) };
  }
  paths['/v1/usage'] = {
    get: {
      operationId: 'usage',
      summary: "The calling key's usage per UTC day and model",
      tags: ['account'],
      parameters: [
        { name: 'from', in: 'query', schema: { type: 'string', format: 'date' } },
        { name: 'to', in: 'query', schema: { type: 'string', format: 'date' } },
      ],
      responses: {
        '200': { description: 'Totals', content: { 'application/json': { schema: { type: 'object' } } } },
        '401': ERRORS['401'],
      },
    },
  };
  Object.assign(paths, accountPaths(ERRORS));
  return {
    openapi: '3.1.0',
    info: {
      title: 'inferd customer API',
      version: VERSION,
      description:
        'Task endpoints generated from each model signature. Authenticate with `Authorization: Bearer ik_live_…`.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An inferd API key (ik_live_… or ik_test_…)',
        },
      },
      schemas: {
        Problem: {
          type: 'object',
          description: 'RFC 9457 problem details',
          properties: {
            type: { type: 'string', format: 'uri' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            code: { type: 'string' },
            request_id: { type: 'string' },
          },
          required: ['type', 'title', 'status', 'code', 'request_id'],
        },
      },
    },
  };
}
