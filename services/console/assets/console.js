// The console page's script: keeps the board live from one server-sent event stream (the server
// renders every panel; this only swaps them in), and signs in with the admin token for actions.
// The token stays in this tab (sessionStorage) and travels only in an Authorization header, which
// no other site's page can make this browser send: that, not a cookie, is what makes actions
// CSRF-proof.
'use strict';

const tokenKey = 'tps-console-admin-token';
const $ = (selector) => document.querySelector(selector);

function say(text, mark) {
  const message = $('[data-testid="message"]');
  message.textContent = text;
  message.className = `message mark-${mark ?? 'none'}`;
}

function setMode(admin) {
  document.body.classList.toggle('admin', admin);
  $('[data-testid="mode"]').textContent = admin ? 'admin: actions on' : 'read-only';
}

async function call(method, url, body) {
  const token = sessionStorage.getItem(tokenKey);
  const headers = { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.message ?? `HTTP ${res.status}`);
  return answer;
}

async function signIn(token) {
  sessionStorage.setItem(tokenKey, token);
  try {
    await call('GET', '/api/session');
    setMode(true);
    say('Signed in: actions are on; each asks you to confirm and is recorded as an audit event.', 'ok');
  } catch (err) {
    sessionStorage.removeItem(tokenKey);
    setMode(false);
    say(`Not signed in: ${err.message}`, 'bad');
  }
}

const actions = {
  'breaker-open': (name) => ({ confirm: `Force breaker ${name} open? Its calls fail fast until you set it back to automatic.`, run: () => call('POST', '/api/breakers/open', { name }) }),
  'breaker-auto': (name) => ({ confirm: `Give breaker ${name} back to automatic control?`, run: () => call('POST', '/api/breakers/auto', { name }) }),
};

document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const action = actions[button.dataset.action]?.(button.dataset.name);
  if (!action || !window.confirm(action.confirm)) return;
  try {
    const answer = await action.run();
    say(answer.message ?? 'Done.', 'ok');
  } catch (err) {
    say(`Refused: ${err.message}`, 'bad');
  }
});

function live() {
  const connection = $('[data-testid="connection"]');
  const events = new EventSource('/events');
  events.addEventListener('board', (event) => {
    const board = JSON.parse(event.data);
    for (const [id, markup] of Object.entries(board.panels)) {
      const panel = document.querySelector(`[data-panel="${id}"]`);
      if (panel) panel.innerHTML = markup;
    }
    $('[data-testid="updated"]').textContent = `updated ${new Date(board.at).toLocaleTimeString()}`;
    connection.textContent = 'live';
    connection.className = 'mark-ok';
  });
  events.onerror = () => {
    connection.textContent = 'reconnecting…';
    connection.className = 'mark-watch';
  };
}

document.addEventListener('DOMContentLoaded', () => {
  $('#signin').addEventListener('submit', (event) => {
    event.preventDefault();
    const field = event.target.elements.token;
    const token = field.value.trim();
    field.value = '';
    if (token) signIn(token);
  });
  $('#signout').addEventListener('click', () => {
    sessionStorage.removeItem(tokenKey);
    setMode(false);
    say('Signed out: read-only.', 'none');
  });
  const kept = sessionStorage.getItem(tokenKey);
  if (kept) signIn(kept);
  live();
});
