/**
 * OpenAPI operations of the account routes (src/gateway/account-routes.ts): models, account, and
 * the key management an account does for itself. `errors` are the shared problem responses.
 */
type Schema = Record<string, unknown>;

const object = (description: string): Schema => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

export function accountPaths(errors: Record<'400' | '401' | '403' | '404', Schema>): Record<string, Schema> {
  const op = (operationId: string, summary: string, ok: string, extra: Schema = {}): Schema => ({
    operationId,
    summary,
    tags: ['account'],
    responses: { '200': object(ok), '401': errors['401'] },
    ...extra,
  });
  const jsonBody = (properties: Schema, required: string[] = []): Schema => ({
    requestBody: {
      required: required.length > 0,
      content: { 'application/json': { schema: { type: 'object', properties, required } } },
    },
  });
  return {
    '/v1/models': {
      get: op('listModels', 'The models with a task endpoint, their state and signature', 'Models'),
    },
    '/v1/account': {
      get: op(
        'account',
        "The calling key, its plan's limits, this month's quota and its recent errors",
        'Account',
      ),
    },
    '/v1/keys': {
      get: op('listKeys', "The keys of the caller's account (same owner), with last use", 'Keys'),
      post: {
        ...op('createKey', "A new key in the caller's account (the key is in the answer, once)", 'Unused', {
          ...jsonBody(
            {
              name: { type: 'string', maxLength: 128 },
              models: { type: 'array', items: { type: 'string' }, maxItems: 100 },
              expires_in: { type: 'string', example: '30d' },
            },
            ['name'],
          ),
        }),
        responses: {
          '201': object('The key and its record'),
          '400': errors['400'],
          '401': errors['401'],
          '403': errors['403'],
        },
      },
    },
    '/v1/keys/{id}/rotate': {
      post: op('rotateKey', 'A replacement key; the old one works for the grace period', 'The new key', {
        parameters: [idParam],
        ...jsonBody({ grace: { type: 'string', example: '24h' } }),
      }),
    },
    '/v1/keys/{id}/revoke': {
      post: op('revokeKey', "Ends a key of the caller's account", 'The revoked record', {
        parameters: [idParam],
      }),
    },
  };
}
