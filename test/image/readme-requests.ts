/**
 * The README's spam and OCR requests, as the image tests send them to a running container
 * (test/image/container.image-test.ts, test/image/kube-play.image-test.ts).
 */
import { layout, renderRaw } from '../ocr/helpers/render.js';

/** The README's spam example. */
export const SPAM_TEXTS = [
  'Subject: WIN a FREE iPhone now\n\nCongratulations! You have been selected. Click http://bit.ly/x to claim your prize today!!!',
  'Subject: lunch tomorrow?\n\nHi Sam, are we still on for lunch tomorrow? Let me know if noon works.\n\nCheers, Ana',
];
export const OCR_LINES = ['Invoice 2024-117: total due 1,284.50 EUR', 'Please reply before Friday, 14 June.'];

/** `Authorization` for a key; none with auth off. */
const auth = (key: string | undefined): Record<string, string> =>
  key ? { authorization: `Bearer ${key}` } : {};

export async function ocrImage(lines: readonly string[], width: number): Promise<Buffer> {
  const size = 30;
  const height = Math.round(80 + size * 1.8 * lines.length);
  return (await renderRaw(width, height, layout(lines, 'DejaVu Sans', size))).png().toBuffer();
}

/** The README's spam request: labels of SPAM_TEXTS, or the status and body on an error. */
export async function spam(
  url: string,
  key?: string,
): Promise<{ status: number; labels: unknown[]; body: string }> {
  const res = await fetch(`${url}/v2/models/spam/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth(key) },
    body: JSON.stringify({ inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: SPAM_TEXTS }] }),
  });
  const body = await res.text();
  const labels =
    res.status === 200
      ? ((JSON.parse(body) as { outputs: { name: string; data: unknown[] }[] }).outputs.find(
          (o) => o.name === 'label',
        )?.data ?? [])
      : [];
  return { status: res.status, labels, body };
}

/** The README's OCR request: the image base64-encoded in a BYTES tensor. */
export async function ocr(
  url: string,
  key: string | undefined,
  png: Buffer,
): Promise<{ status: number; text: string; body: string }> {
  const res = await fetch(`${url}/v2/models/ocr/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth(key) },
    body: JSON.stringify({
      inputs: [
        {
          name: 'image',
          shape: [1],
          datatype: 'BYTES',
          parameters: { content_type: 'base64' },
          data: [png.toString('base64')],
        },
      ],
    }),
  });
  const body = await res.text();
  const text =
    res.status === 200
      ? ((JSON.parse(body) as { outputs: { name: string; data: string[] }[] }).outputs.find(
          (o) => o.name === 'text',
        )?.data[0] ?? '')
      : '';
  return { status: res.status, text, body };
}
