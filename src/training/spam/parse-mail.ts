/**
 * Turns a raw RFC 822 message into the plain text the model scores ("model text"). Parsing uses
 * mailparser (MIME, transfer encodings, charsets) and html-to-text; nothing here hand-rolls MIME.
 *
 * Model text contract (what a client should send as the `text` input):
 *
 *   From: <display name and address>
 *   Reply-To: <address>                (only when present)
 *   To: <recipients>
 *   Subject: <subject>
 *   X-Mailer: <mailer>                 (only when present)
 *   Content-Type: <type>; charset=<cs> (the top-level header, when present)
 *   <blank line>
 *   <body as plain text>
 *
 * Every header line is optional; "Subject + body" plain text is a valid input, and so is a raw
 * RFC 822 message whose body is not transfer-encoded (it then just carries extra header lines).
 */
import { simpleParser, type AddressObject, type ParsedMail, type StructuredHeader } from 'mailparser';
import { convert } from 'html-to-text';

/** Bodies are cut at this many characters: a bound on work per message (huge mails are rare and scored on their start). */
export const MAX_BODY_CHARS = 20_000;

export interface ParsedMessage {
  from: string;
  replyTo: string;
  to: string;
  subject: string;
  mailer: string;
  /** Top-level Content-Type as `type[; charset=cs]` ('' when absent). */
  contentType: string;
  body: string;
}

function addressText(value: AddressObject | AddressObject[] | undefined): string {
  if (!value) return '';
  const list = Array.isArray(value) ? value : [value];
  return list.map((a) => a.text).join(', ');
}

/** html-to-text with links kept (a link's URL is a strong spam signal) and no hard wrapping. */
function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
    ],
  });
}

function headerString(mail: ParsedMail, name: string): string {
  const v = mail.headers.get(name);
  return typeof v === 'string' ? v : '';
}

function contentType(mail: ParsedMail): string {
  const v = mail.headers.get('content-type') as StructuredHeader | undefined;
  if (!v || typeof v !== 'object' || typeof v.value !== 'string') return '';
  const charset = v.params?.['charset'];
  return charset ? `${v.value}; charset=${charset.toLowerCase()}` : v.value;
}

const EMPTY: ParsedMessage = {
  from: '',
  replyTo: '',
  to: '',
  subject: '',
  mailer: '',
  contentType: '',
  body: '',
};

/** Parses raw message bytes (any charset / transfer encoding) into the fields the model uses. */
export async function parseMessage(raw: Buffer | string): Promise<ParsedMessage> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  } catch {
    // A message mailparser cannot read at all is scored on its raw text (lossy but never crashes).
    const text = typeof raw === 'string' ? raw : raw.toString('latin1');
    return { ...EMPTY, body: text.slice(0, MAX_BODY_CHARS) };
  }
  const hasHtml = typeof mail.html === 'string' && mail.html.length > 0;
  // Prefer HTML when present: multipart/alternative parts carry the same content, and html-to-text
  // keeps the link targets that the plain-text part often drops.
  const body = hasHtml ? htmlToText(mail.html as string) : (mail.text ?? '');
  return {
    from: addressText(mail.from),
    replyTo: addressText(mail.replyTo),
    to: addressText(mail.to),
    subject: mail.subject ?? '',
    mailer: headerString(mail, 'x-mailer'),
    contentType: contentType(mail),
    // Line ends normalised to '\n'; the model also splits '\r', this just keeps model text canonical.
    body: body.replace(/\r\n?/g, '\n').slice(0, MAX_BODY_CHARS),
  };
}

/** Renders parsed fields as model text (see the contract at the top of this file). */
export function renderModelText(m: ParsedMessage): string {
  const lines: string[] = [];
  if (m.from) lines.push(`From: ${m.from}`);
  if (m.replyTo) lines.push(`Reply-To: ${m.replyTo}`);
  if (m.to) lines.push(`To: ${m.to}`);
  if (m.subject) lines.push(`Subject: ${m.subject}`);
  if (m.mailer) lines.push(`X-Mailer: ${m.mailer}`);
  if (m.contentType) lines.push(`Content-Type: ${m.contentType}`);
  return `${lines.join('\n')}\n\n${m.body}`;
}

/** Raw RFC 822 bytes to model text: what a client should do before calling the served model. */
export async function messageToModelText(raw: Buffer | string): Promise<string> {
  return renderModelText(await parseMessage(raw));
}
