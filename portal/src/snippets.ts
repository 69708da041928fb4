/** "Copy as curl / TypeScript SDK / Python" for the exact request the playground sent. */
export interface PlaygroundRequest {
  model: string;
  /** Text and number fields. */
  fields: Record<string, string | number>;
  /** Image fields: field name → file name. */
  files: Record<string, string>;
}

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const py = (v: unknown): string => JSON.stringify(v);

export function curlSnippet(r: PlaygroundRequest, origin: string, auth: boolean): string {
  const url = `${origin}/v1/models/${encodeURIComponent(r.model)}/predict`;
  const lines = [`curl -sS ${url}`];
  if (auth) lines.push(`  -H "Authorization: Bearer $INFERD_API_KEY"`);
  if (Object.keys(r.files).length > 0) {
    for (const [f, name] of Object.entries(r.files)) lines.push(`  -F ${sq(`${f}=@${name}`)}`);
    for (const [f, v] of Object.entries(r.fields)) lines.push(`  -F ${sq(`${f}=${v}`)}`);
  } else {
    lines.push(`  -H 'content-type: application/json'`, `  -d ${sq(JSON.stringify(r.fields))}`);
  }
  return lines.join(' \\\n');
}

export function sdkSnippet(r: PlaygroundRequest, origin: string): string {
  const head = [
    `import { InferdClient } from './sdk/index.js';`,
    ``,
    `const client = new InferdClient({ apiKey: process.env.INFERD_API_KEY!, baseUrl: ${py(origin)} });`,
  ];
  const files = Object.entries(r.files);
  if (files.length > 0) {
    const [field, name] = files[0]!;
    return [
      `import { readFileSync } from 'node:fs';`,
      ...head,
      `const result = await client.predictFile(${py(r.model)}, readFileSync(${py(name)}), { field: ${py(field)} });`,
      `console.log(result);`,
    ].join('\n');
  }
  return [
    ...head,
    `const result = await client.predict(${py(r.model)}, ${JSON.stringify(r.fields, null, 2)});`,
    `console.log(result);`,
  ].join('\n');
}

export function pythonSnippet(r: PlaygroundRequest, origin: string, auth: boolean): string {
  const url = `${origin}/v1/models/${encodeURIComponent(r.model)}/predict`;
  const lines = ['import os', 'import requests', ''];
  const headers = auth ? `headers={"Authorization": f"Bearer {os.environ['INFERD_API_KEY']}"}, ` : '';
  const files = Object.entries(r.files);
  if (files.length > 0) {
    const fileArgs = files.map(([f, name]) => `${py(f)}: open(${py(name)}, "rb")`).join(', ');
    const data = Object.keys(r.fields).length ? `data=${py(r.fields)}, ` : '';
    lines.push(`r = requests.post(${py(url)}, ${headers}${data}files={${fileArgs}}, timeout=60)`);
  } else {
    lines.push(`r = requests.post(${py(url)}, ${headers}json=${py(r.fields)}, timeout=60)`);
  }
  lines.push('r.raise_for_status()', 'print(r.json())');
  return lines.join('\n');
}
