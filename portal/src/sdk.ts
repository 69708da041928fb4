/** Where the SDK and API reference live, with a first call. */
import { h } from './dom.js';

export function sdkPage(): HTMLElement {
  const origin = location.origin;
  return h(
    'section',
    { class: 'card' },
    h('h1', {}, 'SDK and API reference'),
    h(
      'p',
      {},
      'The API reference is generated from the loaded models: ',
      h('a', { href: '/docs' }, 'Swagger UI at /docs'),
      ' and ',
      h('a', { href: '/openapi.json' }, '/openapi.json'),
      '.',
    ),
    h(
      'p',
      {},
      'The TypeScript SDK is sdk/index.ts in the inferd repository: no dependencies beyond fetch, typed errors, retries after Retry-After.',
    ),
    h(
      'pre',
      {},
      h(
        'code',
        {},
        `import { InferdClient } from './sdk/index.js';\n\nconst client = new InferdClient({ apiKey: process.env.INFERD_API_KEY!, baseUrl: '${origin}' });\nconst { label, score } = await client.predict<{ label: string; score: number }>('spam', { text: 'Subject: hi' });`,
      ),
    ),
  );
}
