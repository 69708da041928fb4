/** docs/errors.md is generated from the error catalogue; this fails when either moved alone. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { renderErrorsDoc } from '../../scripts/errors-doc.js';
import { ERROR_CATALOGUE } from '../../src/errors.js';

it('docs/errors.md is what the catalogue generates (regenerate: node dist/scripts/errors-doc.js --write)', () => {
  assert.equal(readFileSync('docs/errors.md', 'utf8'), renderErrorsDoc());
});

it('the page has a row for every code', () => {
  const page = readFileSync('docs/errors.md', 'utf8');
  for (const code of Object.keys(ERROR_CATALOGUE)) assert.ok(page.includes(`| \`${code}\` |`), code);
});
