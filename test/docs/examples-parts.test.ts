/** The docs-examples test's own parts: block extraction, markers, command splitting, expected output. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mismatches, parsePattern } from './examples/expect.js';
import { extract, shellCommands } from './examples/extract.js';

describe('expected output', () => {
  const check = (pattern: string, actual: unknown): string[] => mismatches(parsePattern(pattern), actual);

  it('compares the keys, strings and truncated numbers the doc shows', () => {
    assert.deepEqual(
      check('{"label":"spam","score":0.833…}', { label: 'spam', score: 0.8330091, extra: 1 }),
      [],
    );
    assert.equal(check('{"label":"spam","score":0.833…}', { label: 'ham', score: 0.833 }).length, 1);
    assert.equal(check('{"label":"spam","score":0.833…}', { label: 'spam', score: 0.02 }).length, 1);
    assert.equal(check('{"label":"spam"}', { score: 0.9 }).length, 1);
  });

  it('treats "...", bare names and numbers without … as placeholders', () => {
    const ocr = '{"text":"...","lines":[{"confidence":0.98,"box":[[x,y],[x,y]]}]}';
    assert.deepEqual(
      check(ocr, {
        text: 'a',
        lines: [
          {
            confidence: 0.5,
            box: [
              [1, 2],
              [3, 4],
            ],
          },
        ],
      }),
      [],
    );
    assert.equal(check(ocr, { text: 'a', lines: [] }).length, 1, 'array length');
    assert.equal(
      check(ocr, {
        text: 1,
        lines: [
          {
            confidence: 0.5,
            box: [
              [1, 2],
              [3, 4],
            ],
          },
        ],
      }).length,
      1,
    );
    assert.deepEqual(check('{"lines":[...]}', { lines: [1, 2, 3] }), []);
    assert.deepEqual(check('["ab…"]', ['abc']), []);
    assert.equal(check('["ab…"]', ['xbc']).length, 1);
  });

  it('refuses a pattern it cannot read', () => {
    assert.throws(() => parsePattern('{"a": }'), /expected output/);
    assert.throws(() => parsePattern('{"a": 1} trailing'), /end of text/);
  });
});

describe('shell commands', () => {
  it('splits at complete commands and takes the JSON comment after one as its output', () => {
    const cmds = shellCommands(
      [
        'curl -s x \\',
        '  -d \'{"a":',
        "  1}'",
        '# {"ok": true}',
        '# prose, not output',
        'echo "two',
        'lines"',
        '# → ["x"]',
        'true   # trailing comment',
        'echo 4',
        '# {"a": [1,',
        '#   2]}',
        '# prose',
      ].join('\n'),
    );
    assert.deepEqual(
      cmds.map((c) => c.expected),
      ['{"ok": true}', '["x"]', undefined, '{"a": [1, 2]}'],
    );
    assert.equal(cmds[0].text, 'curl -s x \\\n  -d \'{"a":\n  1}\'');
  });

  it('refuses a block whose last command never closes', () => {
    assert.throws(() => shellCommands("echo 'open"), /unterminated/);
  });
});

describe('blocks and markers', () => {
  it('finds example blocks, reads skip markers and reports stray or malformed ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferd-docs-md-'));
    try {
      writeFileSync(
        join(dir, 'a.md'),
        [
          '```sh',
          'echo 1',
          '```',
          '<!-- example: skip (needs a cloud account) -->',
          '',
          '```bash',
          'gcloud run deploy',
          '```',
          '```',
          'a diagram',
          '```',
          '<!-- example: skip (no block follows) -->',
          'prose',
          '<!-- example: maybe -->',
          '```json',
          '{}',
          '```',
        ].join('\n'),
      );
      const { blocks, ignored, problems } = extract(dir, ['a.md']);
      assert.deepEqual(
        blocks.map((b) => [b.index, b.kind, b.skip]),
        [
          [0, 'shell', undefined],
          [1, 'shell', 'needs a cloud account'],
          [2, 'json', undefined],
        ],
      );
      assert.equal(ignored, 1);
      assert.equal(problems.length, 2, problems.join('\n'));
      assert.match(problems[0], /a\.md:12: marker not followed by a code block/);
      assert.match(problems[1], /a\.md:14: unknown marker 'maybe'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
