/**
 * A playground per model, generated from its signature (GET /v1/models): a text area per string
 * field, a number box per number, and an image picker (file, drag and drop, camera on phones) per
 * image field. Results: label and score bar for classifiers, boxes drawn over the image and the
 * lines with confidence for OCR, and the raw JSON; plus the request as curl, SDK and Python.
 */
import { call, errorText } from './api.js';
import { copyButton, fmt, h, s, status } from './dom.js';
import type { PageContext } from './main.js';
import { curlSnippet, pythonSnippet, sdkSnippet, type PlaygroundRequest } from './snippets.js';

interface SigInput {
  field: string;
  type: 'string' | 'number' | 'integer' | 'image';
  description?: string;
  max_length?: number;
  example?: string | number;
}
interface ModelInfo {
  name: string;
  version: string;
  ready: boolean;
  state: string;
  weight: number;
  signature: {
    task: string;
    summary?: string;
    inputs: SigInput[];
    outputs: { field: string; type: string }[];
  };
}
interface OcrLine {
  text: string;
  confidence: number;
  box: [number, number][];
}

function scoreView(label: string, score: number): HTMLElement {
  const bar = h('div', { class: 'bar-fill' });
  bar.style.width = `${Math.max(0, Math.min(1, score)) * 100}%`;
  if (label === 'spam') bar.classList.add('warn');
  return h(
    'div',
    { class: 'score' },
    h('p', {}, 'Label: ', h('strong', { class: 'label', 'data-testid': 'label' }, label)),
    h(
      'div',
      {
        class: 'bar',
        role: 'meter',
        'aria-label': 'score',
        'aria-valuemin': 0,
        'aria-valuemax': 1,
        'aria-valuenow': score,
      },
      bar,
    ),
    h('p', { class: 'muted' }, `score ${fmt(score, 3)}`),
  );
}

function ocrView(lines: OcrLine[], imageUrl: string | undefined): HTMLElement {
  const wrap = h('div', { class: 'ocr' });
  if (imageUrl) {
    const img = h('img', { src: imageUrl, alt: 'The uploaded image with the detected text boxes' });
    const fig = h('div', { class: 'overlay' }, img);
    img.addEventListener('load', () => {
      const svg = s('svg', {
        viewBox: `0 0 ${img.naturalWidth} ${img.naturalHeight}`,
        class: 'boxes',
        'aria-hidden': 'true',
        preserveAspectRatio: 'none',
      });
      for (const l of lines) {
        svg.appendChild(s('polygon', { points: l.box.map(([x, y]) => `${x},${y}`).join(' '), class: 'box' }));
      }
      fig.appendChild(svg);
    });
    wrap.appendChild(fig);
  }
  wrap.appendChild(
    h(
      'table',
      {},
      h('caption', {}, `${lines.length} line${lines.length === 1 ? '' : 's'} found`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Text'), h('th', { scope: 'col' }, 'Confidence'))),
      h(
        'tbody',
        {},
        lines.map((l) => h('tr', {}, h('td', {}, l.text), h('td', { class: 'num' }, fmt(l.confidence, 3)))),
      ),
    ),
  );
  return wrap;
}

function imagePicker(
  input: SigInput,
  onPick: (f: File) => void,
): { el: HTMLElement; file: () => File | undefined } {
  let picked: File | undefined;
  const id = `f-${input.field}`;
  const preview = h('p', { class: 'muted' }, 'No image chosen');
  const fileInput = h('input', {
    id,
    name: input.field,
    type: 'file',
    accept: 'image/*',
    capture: 'environment',
  });
  const choose = (f: File | undefined) => {
    if (!f) return;
    picked = f;
    preview.textContent = `${f.name} (${fmt(f.size / 1024, 1)} KiB)`;
    onPick(f);
  };
  fileInput.addEventListener('change', () => choose(fileInput.files?.[0]));
  const drop = h(
    'div',
    { class: 'drop' },
    h('label', { for: id }, `${input.field}: drop an image here, or choose one (camera on phones)`),
    fileInput,
    preview,
  );
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    choose(e.dataTransfer?.files[0]);
  });
  return { el: drop, file: () => picked };
}

export async function playgroundPage(ctx: PageContext, wanted: string | undefined): Promise<HTMLElement> {
  const { models } = await call<{ models: ModelInfo[] }>('GET', '/v1/models');
  const page = h('section', {}, h('h1', {}, 'Playground'));
  if (models.length === 0) {
    page.appendChild(h('p', {}, 'No loaded model has a signature (a task endpoint) yet.'));
    return page;
  }
  const model = models.find((m) => m.name === wanted) ?? models[0]!;
  page.appendChild(
    h(
      'nav',
      { class: 'tabs', 'aria-label': 'Models' },
      models.map((m) =>
        h(
          'a',
          {
            href: `#/playground/${encodeURIComponent(m.name)}`,
            'aria-current': m === model ? 'page' : undefined,
          },
          m.name,
        ),
      ),
    ),
  );
  const sig = model.signature;
  const texts = new Map<string, HTMLInputElement | HTMLTextAreaElement>();
  const images = new Map<string, () => File | undefined>();
  let imageUrl: string | undefined;
  const form = h('form', { class: 'card' });
  form.appendChild(
    h(
      'p',
      {},
      h('strong', {}, sig.task),
      ` · version ${model.version} · ${model.state} · ${sig.summary ?? ''}`,
    ),
  );
  for (const input of sig.inputs) {
    const id = `f-${input.field}`;
    if (input.type === 'image') {
      const p = imagePicker(input, (f) => {
        if (imageUrl) URL.revokeObjectURL(imageUrl);
        imageUrl = URL.createObjectURL(f);
      });
      images.set(input.field, p.file);
      form.appendChild(p.el);
      continue;
    }
    const el =
      input.type === 'string'
        ? h('textarea', {
            id,
            name: input.field,
            rows: 6,
            maxlength: Math.min(input.max_length ?? 100_000, 100_000),
            required: true,
          })
        : h('input', {
            id,
            name: input.field,
            type: 'number',
            step: input.type === 'integer' ? 1 : 'any',
            required: true,
          });
    if (input.example !== undefined) el.value = String(input.example);
    texts.set(input.field, el);
    form.appendChild(
      h(
        'label',
        { for: id },
        input.field,
        input.description ? h('span', { class: 'muted' }, ` — ${input.description}`) : null,
      ),
    );
    form.appendChild(el);
  }
  const run = h('button', { type: 'submit' }, 'Run');
  const note = status();
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  const snippets = h('div', { class: 'snippets' });
  form.append(run, note);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const req: PlaygroundRequest = { model: model.name, fields: {}, files: {} };
    for (const [f, el] of texts) {
      const i = sig.inputs.find((x) => x.field === f)!;
      req.fields[f] = i.type === 'string' ? el.value : Number(el.value);
    }
    let body: FormData | object = req.fields;
    if (images.size > 0) {
      const fd = new FormData();
      for (const [f, get] of images) {
        const file = get();
        if (!file) {
          note.textContent = `Choose an image for ${f} first.`;
          return;
        }
        req.files[f] = file.name;
        fd.append(f, file, file.name);
      }
      for (const [f, v] of Object.entries(req.fields)) fd.append(f, String(v));
      body = fd;
    }
    note.textContent = 'Running…';
    run.disabled = true;
    const started = performance.now();
    void call<Record<string, unknown>>('POST', `/v1/models/${encodeURIComponent(model.name)}/predict`, body)
      .then(
        (out) => {
          note.textContent = `Done in ${fmt(performance.now() - started)} ms.`;
          const views: HTMLElement[] = [];
          if (typeof out.label === 'string' && typeof out.score === 'number')
            views.push(scoreView(out.label, out.score));
          if (Array.isArray(out.lines)) views.push(ocrView(out.lines as OcrLine[], imageUrl));
          views.push(
            h(
              'details',
              {},
              h('summary', {}, 'Response JSON'),
              h('pre', {}, h('code', {}, JSON.stringify(out, null, 2))),
            ),
          );
          result.replaceChildren(...views);
        },
        (err: unknown) => {
          note.textContent = `Failed: ${errorText(err)}`;
          result.replaceChildren();
        },
      )
      .finally(() => {
        run.disabled = false;
        renderSnippets(req);
      });
  });
  const auth = ctx.session.auth === 'on';
  const renderSnippets = (req: PlaygroundRequest) => {
    const o = location.origin;
    const block = (title: string, code: string) =>
      h(
        'div',
        { class: 'snippet' },
        h(
          'div',
          { class: 'row' },
          h('h3', {}, title),
          copyButton(`Copy ${title}`, () => code),
        ),
        h('pre', {}, h('code', {}, code)),
      );
    snippets.replaceChildren(
      h('h2', {}, 'This request as code'),
      block('curl', curlSnippet(req, o, auth)),
      block('TypeScript SDK', sdkSnippet(req, o)),
      block('Python', pythonSnippet(req, o, auth)),
    );
  };
  ctx.onLeave(() => imageUrl && URL.revokeObjectURL(imageUrl));
  page.append(form, result, snippets);
  return page;
}
