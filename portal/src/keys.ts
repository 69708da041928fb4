/**
 * The account's keys (GET /v1/keys): create (the key is shown once), rotate with a grace period,
 * revoke. What a key may do is the server's owner model (docs/portal.md); refusals are shown as
 * the server words them.
 */
import { call, errorText, type KeyInfo } from './api.js';
import { copyButton, h, status } from './dom.js';
import type { PageContext } from './main.js';

const when = (ms: number | null): string =>
  ms === null ? 'never' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function stateOf(k: KeyInfo): string {
  const now = Date.now();
  if (k.revokedAt !== null && k.revokedAt <= now) return 'revoked';
  if (k.expiresAt !== null && k.expiresAt <= now) return 'expired';
  return 'active';
}

export async function keysPage(_ctx: PageContext): Promise<HTMLElement> {
  const page = h('section', {}, h('h1', {}, 'API keys'));
  const note = status();
  const shown = h('div', { class: 'secret', hidden: true });
  const list = h('div');

  const showSecret = (key: string, what: string) => {
    shown.hidden = false;
    const code = h('code', { 'data-testid': 'new-key' }, key);
    shown.replaceChildren(
      h('p', {}, h('strong', {}, what), ' Copy it now: it is shown once and the server keeps only its hash.'),
      h(
        'div',
        { class: 'row' },
        code,
        copyButton('Copy key', () => key),
      ),
    );
  };

  const refresh = async () => {
    const { account, keys } = await call<{ account: string | null; keys: KeyInfo[] }>('GET', '/v1/keys');
    const rows = keys.map((k) => {
      const state = stateOf(k);
      const actions = h('td', { class: 'actions' });
      if (state === 'active') {
        const rotate = h(
          'button',
          { type: 'button', class: 'secondary', 'aria-label': `Rotate ${k.name}` },
          'Rotate',
        );
        rotate.addEventListener('click', () => {
          const grace = prompt('Grace period for the old key (e.g. 24h, 30m, 0s):', '24h');
          if (grace === null) return;
          void call<{ key: string }>('POST', `/v1/keys/${k.id}/rotate`, { grace }).then(
            (r) => {
              showSecret(r.key, `New key for ${k.name}; the old one works for ${grace}.`);
              void refresh();
            },
            (err: unknown) => (note.textContent = errorText(err)),
          );
        });
        const revoke = h(
          'button',
          { type: 'button', class: 'danger', 'aria-label': `Revoke ${k.name}` },
          'Revoke',
        );
        revoke.addEventListener('click', () => {
          if (!confirm(`Revoke ${k.name} (${k.prefix}…)? Calls with it fail from now on.`)) return;
          void call('POST', `/v1/keys/${k.id}/revoke`).then(
            () => {
              note.textContent = `Revoked ${k.name}.`;
              void refresh();
            },
            (err: unknown) => (note.textContent = errorText(err)),
          );
        });
        actions.append(rotate, revoke);
      }
      return h(
        'tr',
        { 'data-key': k.id },
        h(
          'td',
          {},
          h('code', {}, `${k.prefix}…`),
          k.current ? h('span', { class: 'badge' }, 'this session') : null,
        ),
        h('td', {}, k.name),
        h('td', {}, k.scopes ? k.scopes.join(', ') : 'all models'),
        h('td', {}, k.plan),
        h('td', {}, when(k.expiresAt)),
        h('td', {}, k.last_used_at ? k.last_used_at.slice(0, 16).replace('T', ' ') : '—'),
        h('td', { class: `state ${state}` }, state),
        actions,
      );
    });
    list.replaceChildren(
      h(
        'p',
        { class: 'muted' },
        account ? `Account ${account}` : 'This key belongs to no account: it can manage only itself.',
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
              [
                'Prefix',
                'Name',
                'Scopes',
                'Plan',
                'Expires (UTC)',
                'Last used (UTC)',
                'State',
                'Actions',
              ].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h('tbody', {}, rows),
        ),
      ),
    );
  };

  const name = h('input', { id: 'key-name', name: 'name', required: true, maxlength: 128 });
  const expires = h('input', {
    id: 'key-expires',
    name: 'expires',
    placeholder: 'e.g. 30d (empty: never)',
    maxlength: 32,
  });
  const create = h(
    'form',
    { class: 'card' },
    h('h2', {}, 'Create a key'),
    h('label', { for: 'key-name' }, 'Name'),
    name,
    h('label', { for: 'key-expires' }, 'Expires in'),
    expires,
    h('button', { type: 'submit' }, 'Create key'),
  );
  create.addEventListener('submit', (e) => {
    e.preventDefault();
    const body: Record<string, string> = { name: name.value };
    if (expires.value.trim()) body.expires_in = expires.value.trim();
    void call<{ key: string }>('POST', '/v1/keys', body).then(
      (r) => {
        showSecret(r.key, `Created ${name.value}.`);
        name.value = '';
        void refresh();
      },
      (err: unknown) => (note.textContent = errorText(err)),
    );
  });
  await refresh();
  page.append(shown, note, list, create);
  return page;
}
