// tether studio: the main page.  Talks to the JSON API (docs/API.md) and
// follows server-sent events; no framework, no build step.
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { settings: [], status: null, presets: {}, chosen: new Set(['iso', 'aperture', 'f-number', 'shutterspeed', 'whitebalance']) };

function toast(text, kind) {
  const t = $('#toast');
  t.textContent = text;
  t.className = 'toast' + (kind ? ' ' + kind : '');
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const msg = data.error ? data.error.message : r.statusText;
    throw new Error(msg);
  }
  return data;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// ---- status -----------------------------------------------------------------

function showLink(connected) {
  const b = $('#link');
  b.textContent = connected ? 'connected' : 'camera lost';
  b.className = 'badge ' + (connected ? 'ok' : 'bad');
  $('#lost').hidden = connected;
}

async function loadStatus() {
  const s = await api('GET', '/api/status');
  state.status = s;
  $('#camera').textContent = s.camera.model;
  $('#simulated').hidden = !s.camera.simulated;
  showLink(s.camera.connected);
}

// ---- capture and gallery ------------------------------------------------------------

async function capture() {
  const b = $('#capture');
  b.disabled = true;
  $('#capture-status').textContent = 'capturing…';
  try {
    const r = await api('POST', '/api/capture');
    $('#capture-status').textContent = 'saved ' + r.photos.map((p) => p.file).join(', ');
  } catch (e) {
    $('#capture-status').textContent = '';
    toast('Capture failed: ' + e.message);
  } finally {
    b.disabled = false;
  }
}

async function loadMini() {
  const r = await api('GET', '/api/photos?per_page=9');
  const mini = $('#mini');
  mini.replaceChildren(...r.photos.map((p) =>
    el('a', { href: p.url, target: '_blank', title: p.file, 'data-id': p.id },
      p.thumb ? el('img', { src: p.thumb, alt: p.file, loading: 'lazy' }) : el('span', {}, p.file))));
  const first = r.photos.find((p) => p.thumb);
  if (first) showAnalysis(first);
  else { clearHistogram(); $('#exif').replaceChildren(); $('#clip').textContent = ''; }
}

function clearHistogram() {
  const c = $('#histogram');
  c.getContext('2d').clearRect(0, 0, c.width, c.height);
}

async function showAnalysis(photo) {
  try {
    const [h, info] = await Promise.all([
      api('GET', `/api/photos/${photo.id}/histogram`), api('GET', `/api/photos/${photo.id}`)]);
    drawHistogram(h);
    $('#clip').textContent = `shadows ${h.shadows_clipped_percent.toFixed(1)}% · highlights ${h.highlights_clipped_percent.toFixed(1)}% clipped`;
    const x = info.exif || {};
    const rows = [['File', info.file], ['Camera', x.model], ['Lens', x.lens], ['Exposure', x.exposure && `${x.exposure} s`],
      ['Aperture', x.fnumber && `f/${x.fnumber}`], ['ISO', x.iso], ['Focal length', x.focal_mm && `${x.focal_mm} mm`],
      ['Taken', x.datetime], ['Size', `${info.width}×${info.height}`]];
    $('#exif').replaceChildren(...rows.filter((r) => r[1]).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
  } catch (e) {
    toast('Histogram: ' + e.message);
  }
}

function drawHistogram(h) {
  const c = $('#histogram');
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  const max = Math.max(1, ...h.luma.slice(1, 255), ...h.red.slice(1, 255), ...h.green.slice(1, 255), ...h.blue.slice(1, 255));
  const draw = (bins, color) => {
    g.fillStyle = color;
    for (let i = 0; i < 256; i++) {
      const v = Math.min(1, bins[i] / max);
      g.fillRect(i * 2, c.height * (1 - v), 2, c.height * v);
    }
  };
  g.globalCompositeOperation = 'lighter';
  draw(h.red, 'rgba(220,60,60,.55)');
  draw(h.green, 'rgba(60,200,80,.55)');
  draw(h.blue, 'rgba(70,110,240,.55)');
  g.globalCompositeOperation = 'source-over';
  draw(h.luma, 'rgba(230,230,230,.35)');
}

// ---- sessions -----------------------------------------------------------------------

async function loadSessions() {
  const r = await api('GET', '/api/sessions');
  const sel = $('#session');
  sel.replaceChildren(...r.sessions.map((s) =>
    el('option', { value: s.name, selected: s.name === r.active ? '' : null }, `${s.name} (${s.photos})`)));
  sel.value = r.active;
}

async function switchSession(name) {
  try {
    await api('POST', `/api/sessions/${encodeURIComponent(name)}/activate`);
  } catch (e) {
    toast('Session: ' + e.message);
  }
}

async function createSession(ev) {
  ev.preventDefault();
  const name = $('#session-name').value.trim();
  try {
    await api('POST', '/api/sessions', { name, activate: true });
    $('#session-name').value = '';
  } catch (e) {
    toast('Session: ' + e.message);
  }
}

// ---- presets ------------------------------------------------------------------------

async function loadPresets() {
  const r = await api('GET', '/api/presets');
  state.presets = r.presets;
  $('#presets').replaceChildren(...Object.entries(r.presets).map(([name, values]) =>
    el('li', { 'data-preset': name },
      el('span', { title: Object.entries(values).map(([k, v]) => `${k}=${v}`).join(', ') }, name),
      el('button', { onclick: () => applyPreset(name) }, 'Apply'),
      el('button', { onclick: () => deletePreset(name), title: 'delete' }, '✕'))));
}

async function savePreset(ev) {
  ev.preventDefault();
  const name = $('#preset-name').value.trim();
  const settings = [...state.chosen].filter((n) => state.settings.some((s) => s.name === n));
  if (!settings.length) return toast('Tick at least one setting to keep in the preset');
  try {
    await api('POST', '/api/presets', { name, settings });
    $('#preset-name').value = '';
    toast(`Preset "${name}" saved`, 'info');
  } catch (e) {
    toast('Preset: ' + e.message);
  }
}

async function applyPreset(name) {
  try {
    await api('POST', `/api/presets/${encodeURIComponent(name)}/apply`);
    toast(`Preset "${name}" applied`, 'info');
  } catch (e) {
    toast('Preset: ' + e.message);
  }
}

async function deletePreset(name) {
  try {
    await api('DELETE', `/api/presets/${encodeURIComponent(name)}`);
  } catch (e) {
    toast('Preset: ' + e.message);
  }
}

// ---- settings -------------------------------------------------------------------------

function control(s) {
  const id = 'set-' + s.path.replace(/[^a-z0-9]/gi, '-');
  const set = async (value) => {
    try {
      await api('POST', '/api/settings', { path: s.path, value: String(value) });
    } catch (e) {
      toast(`${s.label}: ${e.message}`);
      loadSettings();
    }
  };
  let input;
  if (s.read_only || s.type === 'date') {
    input = el('span', { class: 'ro', id }, s.value);
  } else if (s.type === 'choice') {
    input = el('select', { id, onchange: (e) => set(e.target.value) },
      ...s.choices.map((c) => el('option', { value: c, selected: c === s.value ? '' : null }, c)));
    input.value = s.value;
  } else if (s.type === 'toggle') {
    input = el('input', { id, type: 'checkbox', onchange: (e) => set(e.target.checked ? 1 : 0) });
    input.checked = s.value === '1';
  } else if (s.type === 'range') {
    input = el('input', { id, type: 'number', min: s.min, max: s.max, step: s.step || 'any', value: s.value,
      onchange: (e) => set(e.target.value) });
  } else {
    input = el('input', { id, value: s.value, onchange: (e) => set(e.target.value) });
  }
  const pick = el('input', { type: 'checkbox', title: 'keep in presets', 'aria-label': 'keep ' + s.name + ' in presets',
    onchange: (e) => { if (e.target.checked) state.chosen.add(s.name); else state.chosen.delete(s.name); } });
  pick.checked = state.chosen.has(s.name);
  pick.disabled = s.read_only;
  return el('div', { class: 'setting', 'data-path': s.path, 'data-name': s.name },
    pick, el('label', { for: id, title: s.path }, s.label || s.name), input);
}

async function loadSettings() {
  try {
    const r = await api('GET', '/api/settings');
    state.settings = r.settings;
    const groups = new Map();
    for (const s of r.settings) {
      const g = s.path.split('/')[2] || 'other';
      if (g === 'other') continue; // raw property dumps
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(s);
    }
    const order = ['capturesettings', 'imgsettings', 'actions', 'settings', 'status'];
    const names = [...groups.keys()].sort((a, b) => (order.indexOf(a) + 99) % 99 - (order.indexOf(b) + 99) % 99);
    $('#settings').replaceChildren(...names.map((g, i) =>
      el('details', { open: i < 2 ? '' : null }, el('summary', {}, g.replace('settings', ' settings')), ...groups.get(g).map(control))));
  } catch (e) {
    toast('Settings: ' + e.message);
  }
}

function updateSetting(s) {
  const row = document.querySelector(`.setting[data-path="${CSS.escape(s.path)}"]`);
  if (!row) return;
  const idx = state.settings.findIndex((x) => x.path === s.path);
  if (idx >= 0 && s.type) state.settings[idx] = s;
  if (s.type) row.replaceWith(control(s));
}

// ---- events -----------------------------------------------------------------------------

function listen() {
  const es = new EventSource('/api/events');
  const on = (type, fn) => es.addEventListener(type, (m) => fn(JSON.parse(m.data).data));
  on('capture', () => { loadMini(); loadSessions(); });
  on('photo_deleted', () => loadMini());
  on('setting_changed', (d) => { if (d.path && d.type) updateSetting(d); else loadSettings(); });
  on('camera_lost', () => showLink(false));
  on('camera_back', () => { showLink(true); loadSettings(); });
  on('session_changed', () => { loadSessions(); loadMini(); });
  on('preset_saved', loadPresets);
  on('preset_deleted', loadPresets);
  on('preset_applied', () => {});
}

// ---- start ------------------------------------------------------------------------------

$('#capture').addEventListener('click', capture);
$('#session').addEventListener('change', (e) => switchSession(e.target.value));
$('#new-session').addEventListener('submit', createSession);
$('#save-preset').addEventListener('submit', savePreset);
document.addEventListener('keydown', (e) => {
  if (e.code === 'Space' && !['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(document.activeElement.tagName)) {
    e.preventDefault();
    capture();
  }
});
listen();
loadStatus().then(() => Promise.all([loadSessions(), loadMini(), loadPresets(), loadSettings()])).catch((e) => toast(e.message));
