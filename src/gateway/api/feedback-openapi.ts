/**
 * The OpenAPI operation of `POST /v1/models/{name}/feedback` (gateway/feedback.ts), one per model
 * with a signature: `label` lists the model's labels when it has them, else the body takes `text`.
 */
type Schema = Record<string, unknown>;

export function feedbackOp(
  name: string,
  labels: readonly string[] | undefined,
  errors: Record<string, Schema>,
): Schema {
  const answer: Schema = labels
    ? { type: 'string', enum: [...labels], description: 'The true label' }
    : { type: 'string', maxLength: 65536, description: 'The corrected text' };
  const field = labels ? 'label' : 'text';
  return {
    operationId: `feedback_${name.replace(/[^A-Za-z0-9_]/g, '_')}`,
    summary: `Feedback on an earlier ${name} prediction: the ${labels ? 'true label' : 'corrected text'}`,
    description:
      "`request_id` is the `x-request-id` of a single prediction made with the same key, within the plan's retention. A second feedback replaces the first.",
    tags: ['feedback'],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: { request_id: { type: 'string', minLength: 1, maxLength: 128 }, [field]: answer },
            required: ['request_id', field],
            additionalProperties: false,
          },
        },
      },
    },
    responses: {
      '201': { description: 'Stored', content: { 'application/json': { schema: resultSchema(labels) } } },
      '200': {
        description: 'Stored, replacing earlier feedback on the same prediction',
        content: { 'application/json': { schema: resultSchema(labels) } },
      },
      '400': errors['400'],
      '401': errors['401'],
      '403': errors['403'],
      '404': {
        ...errors['404'],
        description:
          'prediction_not_found: no prediction with this request_id by this key (unknown, batched, another key, or expired); or model_not_found',
      },
      '429': errors['429'],
    },
  };
}

function resultSchema(labels: readonly string[] | undefined): Schema {
  return {
    type: 'object',
    properties: {
      request_id: { type: 'string' },
      model: { type: 'string' },
      version: { type: 'string', description: 'The version that made the prediction' },
      ...(labels ? { label: { type: 'string' } } : {}),
      correct: {
        type: ['boolean', 'null'],
        description: 'The prediction matched; null when it cannot be compared',
      },
      replaced: { type: 'boolean' },
      input_kept: {
        type: 'boolean',
        description: "The prediction's input was kept (the plan's keepInputs), so it can be trained on",
      },
    },
    required: ['request_id', 'model', 'version', 'correct', 'replaced', 'input_kept'],
  };
}
