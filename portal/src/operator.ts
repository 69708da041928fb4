/**
 * The operator's view (admin token, or local mode without one): every model version with its
 * state and reason and load / unload / reload; live throughput, p50 / p99, queue depth and batch
 * size from the server's own statistics (/v2/models/stats and /metrics), refreshed every 2 s; all
 * accounts' keys and usage totals with the CSV export (/admin).
 */
import { call, errorText, text, type KeyInfo } from './api.js';
import { fmt, h, status } from './dom.js';
import type { PageContext } from './main.js';
import { delta, parseMetrics, quantile, type ModelMetrics } from './metrics.js';

interface IndexEntry {
  name: string;
  version?: string;
  state: string;
  reason: string;
}
interface Stat {
  name: string;
  version: string;
  inference_count: number;
  execution_count: number;
}
interface Reading {
  at: number;
  stats: Map<string, Stat>;
  metrics: Map<string, ModelMetrics>;
}

const REFRESH_MS = 2000;

export async function operatorPage(ctx: PageContext): Promise<HTMLElement> {
  const note = status();
  const models = h('tbody');
  const live = h('tbody');
  let last: Reading | undefined;

  const act = (name: string, what: 'load' | 'unload') =>
    call('POST', `/v2/repository/models/${encodeURIComponent(name)}/${what}`, {}).then(
      () => {
        note.textContent = `${what === 'load' ? 'Loaded' : 'Unloaded'} ${name}.`;
        return refreshIndex();
      },
      (err: unknown) => (note.textContent = `${what} ${name} failed: ${errorText(err)}`),
    );

  const refreshIndex = async () => {
    const index = await call<IndexEntry[]>('POST', '/v2/repository/index', {});
    models.replaceChildren(
      ...index.map((e) => {
        const btn = (label: string, fn: () => void, cls = 'secondary') => {
          const b = h('button', { type: 'button', class: cls, 'aria-label': `${label} ${e.name}` }, label);
          b.addEventListener('click', () => {
            b.disabled = true;
            note.textContent = `${label} ${e.name}…`;
            fn();
          });
          return b;
        };
        const ready = e.state === 'READY';
        return h(
          'tr',
          { 'data-model': e.name },
          h('td', {}, e.name),
          h('td', {}, e.version ?? '—'),
          h(
            'td',
            { class: `state ${e.state.toLowerCase() || 'unloaded'}`, 'data-testid': `state-${e.name}` },
            e.state || 'UNLOADED',
          ),
          h('td', {}, e.reason || ''),
          h(
            'td',
            { class: 'actions' },
            ready ? null : btn('Load', () => void act(e.name, 'load')),
            ready ? btn('Reload', () => void act(e.name, 'load')) : null,
            ready ? btn('Unload', () => void act(e.name, 'unload'), 'danger') : null,
          ),
        );
      }),
    );
  };

  const refreshLive = async () => {
    const [stats, metricsText] = await Promise.all([
      call<{ model_stats: Stat[] }>('GET', '/v2/models/stats'),
      text('/metrics'),
    ]);
    const now: Reading = {
      at: performance.now(),
      stats: new Map(stats.model_stats.map((s) => [`${s.name}/${s.version}`, s])),
      metrics: parseMetrics(metricsText),
    };
    const secs = last ? (now.at - last.at) / 1000 : 0;
    live.replaceChildren(
      ...[...now.stats].map(([k, s]) => {
        // A reload starts the version's counters again: no rate across a reset.
        const prev = last?.stats.get(k);
        const before = prev && prev.inference_count <= s.inference_count ? prev : undefined;
        const rows = before ? s.inference_count - before.inference_count : 0;
        const execs = before ? s.execution_count - before.execution_count : 0;
        const m = now.metrics.get(k);
        // Latency over the last interval when there was traffic, else since start.
        const d = m ? delta(m.duration, last?.metrics.get(k)?.duration) : undefined;
        const hist = d && d.count > 0 ? d : m?.duration;
        const ms = (q: number) => {
          const v = hist && quantile(hist, q);
          return v === undefined ? '—' : fmt(v * 1000, 1);
        };
        return h(
          'tr',
          {},
          h('td', {}, s.name),
          h('td', {}, s.version),
          h('td', { class: 'num' }, secs > 0 && before ? fmt(rows / secs, 1) : '…'),
          h('td', { class: 'num' }, ms(0.5)),
          h('td', { class: 'num' }, ms(0.99)),
          h('td', { class: 'num' }, fmt(m?.pending ?? 0)),
          h(
            'td',
            { class: 'num' },
            execs > 0
              ? fmt(rows / execs, 1)
              : s.execution_count > 0
                ? fmt(s.inference_count / s.execution_count, 1)
                : '—',
          ),
        );
      }),
    );
    last = now;
  };

  await refreshIndex();
  await refreshLive();
  const timer = setInterval(() => {
    void refreshLive().catch((err: unknown) => (note.textContent = `Statistics: ${errorText(err)}`));
  }, REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));

  const th = (t: string[]) =>
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        t.map((x) => h('th', { scope: 'col' }, x)),
      ),
    );
  const page = h(
    'section',
    {},
    h('h1', {}, 'Operator'),
    note,
    h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Models'),
      h(
        'div',
        { class: 'scroll' },
        h('table', {}, th(['Model', 'Version', 'State', 'Reason', 'Actions']), models),
      ),
    ),
    h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Live traffic'),
      h(
        'p',
        { class: 'muted' },
        `Refreshed every ${REFRESH_MS / 1000} s from /v2/models/stats and /metrics.`,
      ),
      h(
        'div',
        { class: 'scroll' },
        h('table', {}, th(['Model', 'Version', 'Inferences/s', 'p50 ms', 'p99 ms', 'Queue', 'Batch']), live),
      ),
    ),
  );
  if (ctx.session.admin_api) page.appendChild(await accountsCard());
  return page;
}

async function accountsCard(): Promise<HTMLElement> {
  const [{ keys }, { totals }] = await Promise.all([
    call<{ keys: KeyInfo[] }>('GET', '/admin/keys'),
    call<{
      totals: {
        keyId: string;
        day: string;
        model: string;
        requests: number;
        units: number;
        errors: number;
      }[];
    }>('GET', '/admin/usage/totals'),
  ]);
  const byKey = new Map<string, { requests: number; units: number; errors: number }>();
  for (const t of totals) {
    const a = byKey.get(t.keyId) ?? { requests: 0, units: 0, errors: 0 };
    a.requests += t.requests;
    a.units += t.units;
    a.errors += t.errors;
    byKey.set(t.keyId, a);
  }
  const sum = [...byKey.values()].reduce(
    (n, a) => ({ requests: n.requests + a.requests, units: n.units + a.units, errors: n.errors + a.errors }),
    { requests: 0, units: 0, errors: 0 },
  );
  return h(
    'div',
    { class: 'card' },
    h('h2', {}, 'Accounts, keys and usage this month'),
    h(
      'p',
      {},
      `${fmt(sum.requests)} requests, ${fmt(sum.units)} units, ${fmt(sum.errors)} errors. `,
      h('a', { href: '/admin/usage?format=csv', download: 'usage.csv' }, 'Export usage as CSV'),
    ),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Account', 'Key', 'Name', 'Plan', 'Revoked', 'Last used', 'Requests', 'Units'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          keys.map((k) => {
            const u = byKey.get(k.id);
            return h(
              'tr',
              {},
              h('td', {}, k.owner ?? '—'),
              h('td', {}, h('code', {}, `${k.prefix}…`)),
              h('td', {}, k.name),
              h('td', {}, k.plan),
              h('td', {}, k.revokedAt === null ? 'no' : 'yes'),
              h('td', {}, k.last_used_at ? k.last_used_at.slice(0, 16).replace('T', ' ') : '—'),
              h('td', { class: 'num' }, fmt(u?.requests ?? 0)),
              h('td', { class: 'num' }, fmt(u?.units ?? 0)),
            );
          }),
        ),
      ),
    ),
  );
}
