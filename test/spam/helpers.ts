/** Shared paths and helpers for the spam tests (compiled to dist/test/spam/, so the repo root is ../../../). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MODELS = join(REPO_ROOT, 'models');
export const SPAM_MODEL = join(MODELS, 'spam', '1', 'model.onnx');
export const TEST_DATA = join(REPO_ROOT, 'test', 'spam');
