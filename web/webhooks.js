// tether studio: the Webhooks panel (docs/API.md, "Webhooks"): the
// endpoints (add with a URL, a secret and the events to send; delete; send
// a test ping) and the delivery log (the latest 50 deliveries with their
// state, attempts, last status and, on a line of its own, error).  Loaded after app.js, whose
// helpers ($, api, el, toast) and event stream (state.events) it uses; the
// log follows the "webhook_delivery" server-sent events.
'use strict';

const hooks = { timer: null };

function hookTime(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : '';
}

// A delivery's row, and under it a row with its last error in words when
// there is one (not only a hover tooltip: a phone has no hover).
function hookRows(d) {
  const status = d.last_status === null ? '—' : String(d.last_status);
  const when = d.state === 'pending' && d.next_attempt ? 'next ' + hookTime(d.next_attempt) : hookTime(d.done || d.last_attempt || d.created);
  const row = el('tr', { class: 'hook-' + d.state, 'data-key': d.key, title: `${d.key} → ${d.url}${d.last_error ? '\n' + d.last_error : ''}` },
    el('td', {}, el('span', { class: 'pill ' + d.state }, d.state)),
    el('td', {}, d.event),
    el('td', { class: 'num' }, String(d.attempts)),
    el('td', { class: 'num' }, status),
    el('td', { class: 'muted' }, when),
    el('td', {}, d.state === 'failed' ? el('button', { class: 'small-btn', onclick: () => retryDelivery(d.key) }, 'Retry') : ''));
  if (!d.last_error) return [row];
  return [row, el('tr', { class: 'hook-error', 'data-key': d.key }, el('td', { colspan: 6 }, `${d.url}: ${d.last_error}`))];
}

async function loadWebhooks() {
  try {
    const [r, d] = await Promise.all([api('GET', '/api/webhooks'), api('GET', '/api/webhooks/deliveries?limit=50')]);
    const c = r.deliveries;
    $('#webhook-counts').textContent = `${c.pending} pending · ${c.delivered} delivered · ${c.failed} failed`;
    $('#webhook-list').replaceChildren(...r.endpoints.map((e) =>
      el('li', { 'data-webhook': e.id },
        el('span', { class: 'hook-url', title: e.url }, e.url),
        el('small', { class: 'pill', title: 'events sent' }, e.events),
        el('small', { class: 'pill', title: e.secret_set ? 'signed with a secret' : 'not signed' }, e.secret_set ? 'signed' : 'unsigned'),
        el('button', { onclick: () => pauseWebhook(e.id, !e.enabled), title: e.enabled ? 'send nothing new until resumed' : 'send new events again',
          class: e.enabled ? '' : 'paused' }, e.enabled ? 'Pause' : 'Resume'),
        el('button', { onclick: () => testWebhook(e.id), title: 'send a test ping' }, 'Test'),
        el('button', { onclick: () => deleteWebhook(e.id), title: 'delete' }, '✕'))));
    $('#webhook-empty').hidden = r.endpoints.length > 0;
    $('#webhook-log tbody').replaceChildren(...d.deliveries.flatMap(hookRows));
    $('#webhook-log').hidden = d.deliveries.length === 0;
  } catch (e) {
    toast('Webhooks: ' + e.message);
  }
}

function refreshWebhooksSoon() {
  clearTimeout(hooks.timer);
  hooks.timer = setTimeout(loadWebhooks, 250);
}

async function addWebhook(ev) {
  ev.preventDefault();
  const body = { url: $('#webhook-url').value.trim(), events: $('#webhook-events').value };
  const secret = $('#webhook-secret').value;
  if (secret) body.secret = secret;
  try {
    await api('POST', '/api/webhooks', body);
    $('#webhook-url').value = '';
    $('#webhook-secret').value = '';
    loadWebhooks();
  } catch (e) {
    toast('Webhook: ' + e.message);
  }
}

async function deleteWebhook(id) {
  try {
    await api('DELETE', `/api/webhooks/${id}`);
    loadWebhooks();
  } catch (e) {
    toast('Webhook: ' + e.message);
  }
}

async function pauseWebhook(id, enabled) {
  try {
    await api('PUT', `/api/webhooks/${id}`, { enabled });
    loadWebhooks();
  } catch (e) {
    toast('Webhook: ' + e.message);
  }
}

async function testWebhook(id) {
  try {
    await api('POST', `/api/webhooks/${id}/test`);
    toast('Test ping queued', 'info');
    loadWebhooks();
  } catch (e) {
    toast('Webhook test: ' + e.message);
  }
}

async function retryDelivery(key) {
  try {
    await api('POST', `/api/webhooks/deliveries/${key}/retry`);
    loadWebhooks();
  } catch (e) {
    toast('Retry: ' + e.message);
  }
}

$('#add-webhook').addEventListener('submit', addWebhook);
if (state.events) {
  for (const type of ['webhook_changed', 'webhook_delivery', 'webhook_added', 'webhook_deleted', 'capture']) {
    state.events.addEventListener(type, refreshWebhooksSoon);
  }
}
loadWebhooks();
