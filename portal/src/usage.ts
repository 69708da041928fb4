/**
 * Usage of the signed-in key (GET /v1/usage, GET /v1/account): requests and units per day and per
 * model as charts, plan limits, this month's quota and the key's recent errors with request ids.
 */
import { call } from './api.js';
import { days, stackedBars, type Series } from './chart.js';
import { fmt, h } from './dom.js';
import type { PageContext } from './main.js';

interface Usage {
  from: string;
  to: string;
  total: { requests: number; units: number };
  days: { day: string; model: string; requests: number; units: number; errors: number }[];
}
interface Account {
  plan: string;
  limits: Record<string, number | null> | null;
  quota: { month: string; used_units: number; limit_units: number | null; remaining_units: number | null };
  recent_errors: {
    time: string;
    request_id: string;
    method: string;
    path: string;
    status: number;
    code: string;
  }[];
}

const LIMIT_NAMES: Record<string, string> = {
  requestsPerMinute: 'Requests per minute',
  burst: 'Burst (requests at once)',
  concurrentRequests: 'Concurrent requests',
  monthlyQuotaUnits: 'Units per month',
  maxPayloadBytes: 'Largest request (bytes)',
};

function series(u: Usage, pick: 'requests' | 'units'): Series[] {
  const byModel = new Map<string, Map<string, number>>();
  for (const d of u.days) {
    const m = byModel.get(d.model) ?? new Map<string, number>();
    m.set(d.day, (m.get(d.day) ?? 0) + d[pick]);
    byModel.set(d.model, m);
  }
  return [...byModel].map(([name, values]) => ({ name, values }));
}

export async function usagePage(_ctx: PageContext): Promise<HTMLElement> {
  const [u, a] = await Promise.all([call<Usage>('GET', '/v1/usage'), call<Account>('GET', '/v1/account')]);
  const xs = days(u.from, u.to);
  const q = a.quota;
  const used = q.limit_units ? Math.min(1, q.used_units / q.limit_units) : 0;
  const fill = h('div', { class: 'bar-fill' });
  fill.style.width = `${used * 100}%`;
  const limits = a.limits ?? {};
  return h(
    'section',
    {},
    h('h1', {}, 'Usage'),
    h(
      'div',
      { class: 'stats' },
      h(
        'div',
        { class: 'stat' },
        h('span', {}, 'Requests this month'),
        h('strong', { 'data-testid': 'requests' }, fmt(u.total.requests)),
      ),
      h(
        'div',
        { class: 'stat' },
        h('span', {}, 'Units this month'),
        h('strong', { 'data-testid': 'units' }, fmt(u.total.units)),
      ),
      h(
        'div',
        { class: 'stat' },
        h('span', {}, `Quota left (${q.month})`),
        h('strong', {}, q.remaining_units === null ? 'unlimited' : fmt(q.remaining_units)),
        h(
          'div',
          {
            class: 'bar',
            role: 'meter',
            'aria-label': 'quota used',
            'aria-valuemin': 0,
            'aria-valuemax': 1,
            'aria-valuenow': used.toFixed(3),
          },
          fill,
        ),
      ),
    ),
    stackedBars('Requests per day and model', xs, series(u, 'requests')),
    stackedBars('Units per day and model', xs, series(u, 'units')),
    h(
      'div',
      { class: 'card' },
      h('h2', {}, `Plan ${a.plan}`),
      h(
        'dl',
        { class: 'limits' },
        Object.entries(limits).flatMap(([k, v]) => [
          h('dt', {}, LIMIT_NAMES[k] ?? k),
          h('dd', {}, v === null ? 'unlimited' : fmt(v)),
        ]),
      ),
    ),
    h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Recent errors'),
      a.recent_errors.length === 0
        ? h('p', { class: 'muted' }, 'None since the server started.')
        : h(
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
                  ['Time (UTC)', 'Request', 'Status', 'Code', 'Request id'].map((t) =>
                    h('th', { scope: 'col' }, t),
                  ),
                ),
              ),
              h(
                'tbody',
                {},
                a.recent_errors.map((e) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, e.time.slice(0, 19).replace('T', ' ')),
                    h('td', {}, `${e.method} ${e.path}`),
                    h('td', { class: 'num' }, e.status),
                    h('td', {}, e.code),
                    h('td', {}, h('code', {}, e.request_id)),
                  ),
                ),
              ),
            ),
          ),
    ),
  );
}
