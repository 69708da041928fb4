/**
 * The portal's shell: reads the session (GET /session), shows the pages the signed-in party may
 * use, and routes on the URL fragment (#/playground/spam, #/keys, …) so the server serves one page.
 */
import { call, errorText, setCsrf, type SessionInfo } from './api.js';
import { h, status } from './dom.js';
import { keysPage } from './keys.js';
import { operatorPage } from './operator.js';
import { playgroundPage } from './playground.js';
import { sdkPage } from './sdk.js';
import { usagePage } from './usage.js';

let session: SessionInfo = { auth: 'on', admin_api: false, signed_in: false };
/** Stops a page's timers when the user leaves it. */
let leave: (() => void) | undefined;

export interface PageContext {
  session: SessionInfo;
  /** Registers cleanup (timers) for when the page is left. */
  onLeave(fn: () => void): void;
}

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;

async function loadSession(): Promise<void> {
  session = await call<SessionInfo>('GET', '/session');
  setCsrf(session.csrf_token);
}

function links(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const customer = session.kind === 'customer' || session.auth === 'off';
  if (customer) out.push(['#/playground', 'Playground']);
  if (session.kind === 'customer') out.push(['#/keys', 'Keys'], ['#/usage', 'Usage']);
  const operator = session.kind === 'admin' || (session.auth === 'off' && !session.admin_api);
  if (operator) out.push(['#/operator', 'Operator']);
  return out;
}

function renderChrome(route: string): void {
  nav.replaceChildren(
    h(
      'ul',
      {},
      links().map(([href, label]) =>
        h(
          'li',
          {},
          h('a', { href, 'aria-current': route.startsWith(href.slice(1)) ? 'page' : undefined }, label),
        ),
      ),
    ),
  );
  const signOut = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
  signOut.addEventListener('click', () => {
    void call('DELETE', '/session').then(async () => {
      await loadSession();
      location.hash = '#/signin';
      void render();
    });
  });
  if (session.signed_in) {
    const label = session.kind === 'admin' ? 'operator (admin token)' : `key ${session.key?.prefix ?? ''}…`;
    who.replaceChildren(h('span', {}, label), signOut);
  } else if (session.auth === 'off') {
    who.replaceChildren(h('span', { class: 'badge' }, 'local mode'));
    if (session.admin_api) who.appendChild(h('a', { href: '#/signin' }, 'Operator sign-in'));
  } else {
    who.replaceChildren(h('a', { href: '#/signin' }, 'Sign in'));
  }
}

function signInPage(): HTMLElement {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
    maxlength: 512,
    spellcheck: 'false',
  });
  const note = status();
  const form = h(
    'form',
    { class: 'card narrow' },
    h('h1', {}, 'Sign in'),
    h(
      'p',
      {},
      'Paste an API key (ik_live_… or ik_test_…) to try models, manage your keys and see usage, or the admin token to operate the server. ' +
        'It is exchanged for a session cookie the page cannot read; it is not stored in the browser.',
    ),
    h('label', { for: 'token' }, 'API key or admin token'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    note,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    note.textContent = 'Signing in…';
    void call<SessionInfo>('POST', '/session', { token: input.value }).then(
      (s) => {
        input.value = '';
        session = s;
        setCsrf(s.csrf_token);
        location.hash = s.kind === 'admin' ? '#/operator' : '#/playground';
      },
      (err: unknown) => (note.textContent = `Sign-in failed: ${errorText(err)}`),
    );
  });
  return form;
}

async function render(): Promise<void> {
  leave?.();
  leave = undefined;
  const cleanups: Array<() => void> = [];
  const ctx: PageContext = { session, onLeave: (fn) => cleanups.push(fn) };
  let route = location.hash.replace(/^#/, '') || '/';
  const allowed = links().map(([href]) => href.slice(1));
  if (
    route === '/' ||
    (!route.startsWith('/signin') && !route.startsWith('/sdk') && !allowed.some((a) => route.startsWith(a)))
  ) {
    route = allowed[0] ?? '/signin';
  }
  renderChrome(route);
  let page: HTMLElement;
  try {
    if (route.startsWith('/signin')) page = signInPage();
    else if (route.startsWith('/playground')) page = await playgroundPage(ctx, route.split('/')[2]);
    else if (route.startsWith('/keys')) page = await keysPage(ctx);
    else if (route.startsWith('/usage')) page = await usagePage(ctx);
    else if (route.startsWith('/operator')) page = await operatorPage(ctx);
    else page = sdkPage();
  } catch (err) {
    page = h('section', { class: 'card' }, h('h1', {}, 'Something went wrong'), h('p', {}, errorText(err)));
  }
  main.replaceChildren(page);
  leave = () => cleanups.forEach((fn) => fn());
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} · inferd` : 'inferd';
}

window.addEventListener('hashchange', () => void render());
void loadSession()
  .catch(() => undefined)
  .then(render);
