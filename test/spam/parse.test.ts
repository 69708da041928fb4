/** Unit tests of mail parsing into model text: encodings, charsets, HTML, empty, huge, broken bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_BODY_CHARS,
  messageToModelText,
  parseMessage,
  renderModelText,
} from '../../src/training/spam/parse-mail.js';

const head = (extra: string): string =>
  `From: Alice Example <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Hello\r\nMIME-Version: 1.0\r\n${extra}`;

test('quoted-printable body with a utf-8 charset is decoded', async () => {
  const raw = head(
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 au lait =\r\nsoft-broken line\r\n',
  );
  const m = await parseMessage(Buffer.from(raw, 'latin1'));
  assert.match(m.body, /Café au lait soft-broken line/);
  assert.equal(m.subject, 'Hello');
  assert.match(m.from, /alice@example\.com/);
});

test('base64 body is decoded', async () => {
  const body = Buffer.from('Buy cheap watches now!', 'utf8').toString('base64');
  const m = await parseMessage(
    head(`Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}\r\n`),
  );
  assert.match(m.body, /Buy cheap watches now!/);
});

test('latin-1 charset bytes become the right characters (not replacement chars)', async () => {
  const raw = Buffer.concat([
    Buffer.from(head('Content-Type: text/plain; charset=iso-8859-1\r\n\r\n'), 'latin1'),
    Buffer.from([0x47, 0x72, 0xfc, 0xdf, 0x65, 0x20, 0x61, 0x75, 0x73, 0x20, 0x4b, 0xf6, 0x6c, 0x6e]), // "Grüße aus Köln"
  ]);
  const m = await parseMessage(raw);
  assert.match(m.body, /Grüße aus Köln/);
  assert.match(m.contentType, /charset=iso-8859-1/);
});

test('encoded-word subject is decoded', async () => {
  const raw = 'Subject: =?iso-8859-1?Q?Sch=F6ne_Gr=FC=DFe?=\r\n\r\nbody\r\n';
  assert.equal((await parseMessage(raw)).subject, 'Schöne Grüße');
});

test('HTML-only body is converted to text, links kept, tags and scripts gone', async () => {
  const html =
    '<html><head><style>p{color:red}</style></head><body><p>Click <a href="http://win.example.biz/x">HERE</a> now</p><img src="cid:1"></body></html>';
  const m = await parseMessage(head(`Content-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`));
  assert.match(m.body, /Click HERE \[http:\/\/win\.example\.biz\/x\] now/);
  assert.doesNotMatch(m.body, /<p>|color:red/);
  assert.match(renderModelText(m), /^Content-Type: text\/html; charset=utf-8$/m);
});

test('multipart/alternative prefers the HTML part and keeps one copy of the text', async () => {
  const raw = head(
    'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nplain version\r\n' +
      '--b1\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n--b1--\r\n',
  );
  const text = await messageToModelText(raw);
  assert.match(text, /html version/);
  assert.doesNotMatch(text, /plain version/);
});

test('empty input gives an empty body without throwing', async () => {
  const m = await parseMessage('');
  assert.equal(m.body, '');
  assert.equal(renderModelText(m), '\n\n');
});

test('huge message body is truncated to MAX_BODY_CHARS', async () => {
  const body = 'word '.repeat(100_000);
  const m = await parseMessage(head(`Content-Type: text/plain\r\n\r\n${body}`));
  assert.equal(m.body.length, MAX_BODY_CHARS);
});

test('non-UTF-8 bytes without a declared charset do not throw and keep the ASCII text', async () => {
  const raw = Buffer.concat([
    Buffer.from('Subject: bytes\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello ', 'latin1'),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]),
    Buffer.from(' world\r\n'),
  ]);
  const m = await parseMessage(raw);
  assert.match(m.body, /^hello .* world/s);
});

test('model text layout: header lines, blank line, body; CRLF normalised', async () => {
  const text = await messageToModelText(
    head('X-Mailer: Mutt 1.4\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\r\n'),
  );
  assert.equal(
    text,
    'From: "Alice Example" <alice@example.com>\nTo: bob@example.org\nSubject: Hello\nX-Mailer: Mutt 1.4\n' +
      'Content-Type: text/plain\n\nline one\nline two\n',
  );
});
