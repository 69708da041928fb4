/**
 * Which model a platform request runs on. SageMaker (`POST /invocations`) and Vertex AI (the
 * predict route) call one URL per endpoint, so the model is not in the path. The rule, first match:
 *  1. SageMaker multi-model endpoints: the `X-Amzn-SageMaker-Target-Model` header (InvokeEndpoint's
 *     TargetModel), the model's path relative to the endpoint's S3 prefix, mapped to a model name
 *     by modelNameOfTarget (`spam.tar.gz` → `spam`);
 *  2. the `defaultModel` setting (--default-model, INFERD_DEFAULT_MODEL);
 *  3. the repository's only model;
 * otherwise 400 invalid_request naming the models to choose from. An unknown name is 404
 * model_not_found, as on /v2.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { clip } from '../../core/clip.js';
import { InferdError } from '../../errors.js';
import type { InferenceService } from '../../service/inference-service.js';
import type { InferTarget } from '../rest/infer-route.js';

const TARGET_MODEL_HEADER = 'x-amzn-sagemaker-target-model';

/** InvokeEndpoint's TargetModel is at most 1024 characters (SageMaker API reference). */
const MAX_TARGET_CHARS = 1024;
/** Archive suffixes a multi-model endpoint's artifacts carry (SageMaker unpacks `.tar.gz`). */
const ARCHIVE = /\.(tar\.gz|tgz|tar|zip)$/i;

/**
 * `spam.tar.gz`, `spam.tgz`, `spam/`, `./spam`, `team-a/spam.tar.gz` → `spam`: the last path
 * segment without an archive suffix. Undefined when nothing is left.
 */
export function modelNameOfTarget(value: string): string | undefined {
  const segments = value.split('/').filter((s) => s !== '' && s !== '.');
  const last = segments.at(-1);
  if (last === undefined || last === '..') return undefined;
  const name = last.replace(ARCHIVE, '');
  return name === '' ? undefined : name;
}

function targetHeader(headers: IncomingHttpHeaders): string | undefined {
  const v = headers[TARGET_MODEL_HEADER];
  return Array.isArray(v) ? v[0] : v;
}

export function chooseModel(
  service: InferenceService,
  headers: IncomingHttpHeaders,
  defaultModel: string | undefined,
  readTargetHeader: boolean,
): InferTarget | InferdError {
  const target = readTargetHeader ? targetHeader(headers) : undefined;
  if (target !== undefined) {
    const name = target.length <= MAX_TARGET_CHARS ? modelNameOfTarget(target) : undefined;
    if (name === undefined) {
      return new InferdError(
        'invalid_request',
        `X-Amzn-SageMaker-Target-Model '${clip(target)}' names no model: send the model's path relative to the endpoint's model prefix, such as 'spam.tar.gz' or 'spam/' (at most ${MAX_TARGET_CHARS} characters)`,
      );
    }
    return { model: name };
  }
  if (defaultModel !== undefined) return { model: defaultModel };
  const names = service.models.all().map((e) => e.name);
  if (names.length === 1) return { model: names[0]! };
  const list = names.length > 20 ? `${names.slice(0, 20).join(', ')}, …` : names.join(', ');
  return new InferdError(
    'invalid_request',
    names.length === 0
      ? 'the model repository is empty: there is no model to run'
      : `the repository has ${names.length} models (${clip(list, 512)}): choose one with --default-model (env INFERD_DEFAULT_MODEL)${readTargetHeader ? ', or per request with the X-Amzn-SageMaker-Target-Model header' : ''}`,
  );
}
