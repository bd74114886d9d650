// tether studio: the main page.  Talks to the JSON API (docs/API.md) and
// follows server-sent events; no framework, no build step.
//
// Several cameras: the panels that act on a camera (status, capture,
// settings, focus, and in jobs.js the time-lapse and the import) act on
// the selected one, cams.selected, through /api/cameras/ID/... (camPath);
// a studio without /api/cameras (one camera, an older server) is driven
// through the old routes.  cameras.js draws the switcher, the grid and
// capture-all and calls selectCamera; each panel registers what to reload
// with onCameraSelected.  Events about another camera than the selected one
// (their data's "camera") are left to cameras.js.
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { settings: [], status: null, presets: {}, chosen: new Set(['iso', 'aperture', 'f-number', 'shutterspeed', 'whitebalance']) };

// ---- the selected camera ------------------------------------------------------------
// multi: the server has /api/cameras; list: its cameras as it gave them
// (with "connected" kept current by the camera_lost/camera_back events);
// selected: the id the panels act on (null with an older server).
const cams = { multi: false, list: [], selected: null, watchers: [] };

function cameraById(id) {
  return cams.list.find((c) => c.id === id) || null;
}

function selectedCamera() {
  return cameraById(cams.selected);
}

// The route of something of the selected camera: camPath('focus/area') is
// /api/cameras/ID/focus/area, or /api/focus/area without /api/cameras.
function camPath(rest) {
  return cams.multi && cams.selected ? `/api/cameras/${encodeURIComponent(cams.selected)}/${rest}` : `/api/${rest}`;
}

function streamUrl(id) {
  return cams.multi && id ? `/api/cameras/${encodeURIComponent(id)}/stream.mjpg` : '/stream.mjpg';
}

// A camera on a camera node (tether agent): its live view, captures and
// settings go through the node; the lens tools (AF, trap, stack, drive),
// the time-lapse and import need a camera of this studio's own.
function isRemote(c) {
  return !!c && !!c.remote;
}

function remoteNote(c) {
  return `On node ${c.remote.node}: live view, capture and settings here; focus tools, time-lapse and import need a camera of this studio`;
}

// Shows the selected camera's live view in the big viewer.
function showLive(url) {
  const live = $('#live');
  if (live.getAttribute('src') !== url) live.src = url;
}

// fn() runs each time another camera is selected (and once at the start).
function onCameraSelected(fn) {
  cams.watchers.push(fn);
}

// An event's data is about the selected camera when it names it, or names
// none (an older server, or an event about the studio as a whole).
function aboutSelected(d) {
  return !d || d.camera === undefined || d.camera === null || d.camera === cams.selected;
}

// A camera's name for people: its model, and when two cameras are the same
// model, what tells them apart (the serial, else the id).
function cameraName(c) {
  if (!c) return '';
  const model = c.model || c.id;
  const twins = cams.list.filter((o) => (o.model || o.id) === model).length > 1;
  if (!twins) return model;
  const serial = c.identity && c.identity.startsWith(model) ? c.identity.slice(model.length).trim() : '';
  return `${model} · ${serial || c.id}`;
}

// Each camera keeps one colour (by its place in the list) in the switcher,
// the grid and on its photos.
const CAMERA_COLOURS = ['#4aa3ff', '#f5a623', '#b07cff', '#3fb950', '#ff6b9a', '#2ec4b6', '#ffd166', '#e0483e'];
function cameraColour(id) {
  const i = cams.list.findIndex((c) => c.id === id);
  return i < 0 ? '#8a9096' : CAMERA_COLOURS[i % CAMERA_COLOURS.length];
}

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
    const err = new Error(data.error ? data.error.message : r.statusText);
    err.status = r.status;
    err.code = data.error ? data.error.code : '';
    throw err;
  }
  return data;
}

// Whether a failed request failed because the selected camera is lost
// (which its badge and overlay already say: no toast for it).
function lostCamera(e) {
  const c = selectedCamera();
  return e.code === 'camera_disconnected' || e.code === 'camera_unavailable' || (c && c.connected === false && e.status >= 500);
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

// The selected camera's link: the badge, the overlay on the live view, and
// its controls (every fieldset.needs-camera: capture, settings, focus,
// time-lapse and import; Stop and Cancel stay usable) off while it is lost.
function showLink(connected) {
  const b = $('#link');
  b.textContent = connected ? 'connected' : 'camera lost';
  b.className = 'badge ' + (connected ? 'ok' : 'bad');
  $('#lost').hidden = connected;
  for (const f of document.querySelectorAll('fieldset.needs-camera')) f.disabled = !connected;
  document.body.classList.toggle('camera-away', !connected);
}

function formatBytes(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(1) + ' GB';
  if (n >= 1e6) return (n / 1e6).toFixed(1) + ' MB';
  return Math.floor(n / 1e3) + ' KB';
}

// The photo folder's health (status.storage, or a "storage" event): a
// banner while nothing can be saved, the free space in the header.
function showStorage(st) {
  if (!st) return;
  const banner = $('#storage-banner');
  banner.textContent = st.ok ? '' : 'Photos cannot be saved: ' + st.error;
  banner.hidden = st.ok;
  const disk = $('#disk');
  disk.textContent = st.total_bytes ? formatBytes(st.free_bytes) + ' free' : 'no disk';
  disk.className = 'badge ' + (!st.ok ? 'bad' : st.low ? 'warn' : '');
  disk.hidden = false;
}

async function loadStatus() {
  const id = cams.selected;
  const s = await api('GET', camPath('status'));
  if (id !== cams.selected) return; // another camera was selected meanwhile
  state.status = s;
  const c = selectedCamera();
  const cam = s.camera || s; // a node camera's status is its entry of /api/cameras
  if (c) c.connected = cam.connected;
  $('#camera').textContent = c ? cameraName(c) : cam.model;
  $('#camera').title = c ? `${c.identity || c.model} · ${c.spec || ''}` : cam.spec || '';
  $('#simulated').hidden = !cam.simulated;
  showLink(cam.connected);
  if (s.storage) showStorage(s.storage);
}

// ---- capture and gallery ------------------------------------------------------------

async function capture() {
  const b = $('#capture');
  b.disabled = true;
  $('#capture-status').textContent = 'capturing…';
  try {
    const r = await api('POST', camPath('capture'));
    $('#capture-status').textContent = r.photos.length ? 'saved ' + r.photos.map((p) => p.file).join(', ')
      : r.pending ? `shot on the node; ${r.pending.join(', ')} on the way` : 'shot';
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
  // which camera took each photo, once there is more than one to tell apart
  const tagged = cams.list.length > 1 || new Set(r.photos.map(photoCamera)).size > 1;
  mini.replaceChildren(...r.photos.map((p) => {
    const who = photoCamera(p);
    // opens the photo in the gallery's full view (a RAW shows its preview there)
    const a = el('a', { href: `/gallery?session=${encodeURIComponent(p.session)}&photo=${p.id}`,
      title: who ? `${p.file} · ${who}` : p.file, 'data-id': p.id,
      'data-camera': p.camera || '' },
    p.thumb ? el('img', { src: p.thumb, alt: p.file, loading: 'lazy' }) : el('span', {}, p.file));
    if (tagged && who) a.append(el('span', { class: 'cam-tag', style: `--cam:${cameraColour(p.camera)}` }, who));
    return a;
  }));
  const first = r.photos.find((p) => p.thumb);
  if (first) showAnalysis(first);
  else { clearHistogram($('#histogram')); $('#exif').replaceChildren(); $('#clip').textContent = ''; }
}

// The name of the camera that took a photo: its id's camera as listed, else
// what the photo says ("camera_identity", or the model an older server gave).
function photoCamera(p) {
  const c = cameraById(p.camera);
  return c ? cameraName(c) : p.camera_identity || p.camera || '';
}

function clearHistogram(c) {
  c.getContext('2d').clearRect(0, 0, c.width, c.height);
}

// A photo's histogram and EXIF (GET /api/photos/ID/histogram and
// /api/photos/ID) into a canvas, a line saying what is clipped and a <dl>:
// the latest shot's under the live view, the review pane's (review.js).
async function showPhotoAnalysis(photo, canvas, clip, exif) {
  const [h, info] = await Promise.all([
    api('GET', `/api/photos/${photo.id}/histogram`), api('GET', `/api/photos/${photo.id}`)]);
  drawHistogram(canvas, h);
  clip.textContent = `shadows ${h.shadows_clipped_percent.toFixed(1)}% · highlights ${h.highlights_clipped_percent.toFixed(1)}% clipped`;
  const x = info.exif || {};
  const rows = [['File', info.file], ['Camera', x.model], ['Lens', x.lens], ['Exposure', x.exposure && `${x.exposure} s`],
    ['Aperture', x.fnumber && `f/${x.fnumber}`], ['ISO', x.iso], ['Focal length', x.focal_mm && `${x.focal_mm} mm`],
    ['Taken', x.datetime], ['Size', `${info.width}×${info.height}`]];
  exif.replaceChildren(...rows.filter((r) => r[1]).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
}

async function showAnalysis(photo) {
  try {
    await showPhotoAnalysis(photo, $('#histogram'), $('#clip'), $('#exif'));
  } catch (e) {
    toast('Histogram: ' + e.message);
  }
}

function drawHistogram(c, h) {
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

// ---- file names ---------------------------------------------------------------------

function showNaming(r) {
  const input = $('#naming-template');
  if (document.activeElement !== input) input.value = r.template;
  $('#naming-example').textContent = r.example;
}

async function loadNaming() {
  showNaming(await api('GET', '/api/naming'));
}

async function saveNaming(ev) {
  ev.preventDefault();
  try {
    const r = await api('PUT', '/api/naming', { template: $('#naming-template').value.trim() });
    $('#naming-template').blur();
    showNaming(r);
    toast(r.custom ? `File names: ${r.example}` : 'File names: the studio\'s own');
  } catch (e) {
    toast('File names: ' + e.message);
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
    // the server reads the primary camera's values; another camera's are sent as they are shown
    const c = selectedCamera();
    if (c && !c.primary) {
      const values = Object.fromEntries(settings.map((n) => [n, state.settings.find((s) => s.name === n).value]));
      await api('POST', '/api/presets', { name, values });
    } else {
      await api('POST', '/api/presets', { name, settings });
    }
    $('#preset-name').value = '';
    toast(`Preset "${name}" saved`, 'info');
  } catch (e) {
    toast('Preset: ' + e.message);
  }
}

async function applyPreset(name) {
  try {
    // the preset route applies to the primary camera; another is given the values through its settings
    const c = selectedCamera();
    if (c && !c.primary) {
      const values = state.presets[name];
      if (!values) throw new Error(`no preset "${name}"`);
      const r = await api('POST', camPath('settings'), { values });
      for (const s of r.settings || []) updateSetting(s);
    } else {
      await api('POST', `/api/presets/${encodeURIComponent(name)}/apply`);
    }
    toast(`Preset "${name}" applied` + (c && cams.list.length > 1 ? ` to ${cameraName(c)}` : ''), 'info');
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

// The settings every camera shares, by their canonical names (a camera's
// own labels are cut or cryptic: "Canon EOS Zoom", "F-Number").
const CANONICAL_LABEL = {
  exposuremode: 'Exposure mode', iso: 'ISO', aperture: 'Aperture', shutterspeed: 'Shutter speed',
  exposurecompensation: 'Exposure compensation', whitebalance: 'White balance', focusmode: 'Focus mode',
  imageformat: 'Image format', drivemode: 'Drive mode', battery: 'Battery', shotsleft: 'Shots left',
  serialnumber: 'Serial number',
};

function control(s) {
  const id = 'set-' + s.path.replace(/[^a-z0-9]/gi, '-');
  const route = camPath('settings'); // the camera shown when the control was made
  const set = async (value) => {
    try {
      await api('POST', route, { path: s.path, value: String(value) });
    } catch (e) {
      toast(`${s.label}: ${e.message}`);
      loadSettings();
    }
  };
  let input;
  if (s.type === 'date') { // the camera's clock, in Unix time
    const t = Number(s.value);
    input = el('span', { class: 'ro', id, title: s.value }, Number.isFinite(t) && t > 0 ? new Date(t * 1000).toLocaleString() : s.value);
  } else if (s.read_only) {
    input = el('span', { class: 'ro', id }, s.words || s.value);
  } else if (s.type === 'choice') {
    // the camera's own values are set; shown in a photographer's words ("1/60", not "0.0167s")
    const words = s.choice_words || s.choices;
    input = el('select', { id, onchange: (e) => set(e.target.value) },
      ...s.choices.map((c, i) => el('option', { value: c, selected: c === s.value ? '' : null }, words[i] || c)));
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
    pick, el('label', { for: id, title: s.path }, CANONICAL_LABEL[s.canonical] || s.label || s.name), input);
}

// ---- the shooting bar: the exposure controls used on every shot, under the
// live view, in a photographer's words; each steps through the camera's
// own choices with ←/→, [ and ] or the wheel while it has the focus, and
// keeps the focus (so Space, the shutter, is never pressed by accident) ----

const SHOOTING = [['exposuremode', 'Mode'], ['iso', 'ISO'], ['aperture', 'Aperture'], ['shutterspeed', 'Shutter'],
  ['exposurecompensation', 'EV ±'], ['whitebalance', 'WB']];

function settingByCanonical(name) {
  return (state.settings || []).find((x) => x.canonical === name);
}

function renderShooting() {
  const bar = $('#shooting');
  const have = SHOOTING.filter(([name]) => settingByCanonical(name));
  if (bar.dataset.built !== have.map(([n]) => n).join(',')) { // rebuilt only when the set of controls changes
    bar.replaceChildren(...have.map(([name, label]) => {
      const step = (by) => (e) => { e.stopPropagation(); stepSetting(name, by); };
      const box = el('div', { class: 'stepper', tabindex: 0, role: 'spinbutton', 'data-canonical': name, 'aria-label': label },
        el('button', { type: 'button', tabindex: -1, class: 'down', 'aria-hidden': 'true', onclick: step(-1) }, '‹'),
        el('span', { class: 'what' }, el('small', {}, label), el('b', { class: 'value' }, '')),
        el('button', { type: 'button', tabindex: -1, class: 'up', 'aria-hidden': 'true', onclick: step(1) }, '›'));
      box.addEventListener('keydown', (e) => {
        const by = { ArrowLeft: -1, '[': -1, ArrowDown: -1, ArrowRight: 1, ']': 1, ArrowUp: 1 }[e.key];
        if (by) { e.preventDefault(); stepSetting(name, by); }
      });
      box.addEventListener('wheel', (e) => { e.preventDefault(); stepSetting(name, e.deltaY > 0 ? -1 : 1); }, { passive: false });
      return box;
    }));
    bar.dataset.built = have.map(([n]) => n).join(',');
  }
  for (const box of bar.querySelectorAll('.stepper')) showStepper(box, settingByCanonical(box.dataset.canonical));
  showBodyState();
}

function showStepper(box, st) {
  if (!st) return;
  const words = st.words || st.value;
  box.querySelector('.value').textContent = words;
  box.setAttribute('aria-valuetext', words);
  const fixed = st.read_only || st.type !== 'choice';
  box.classList.toggle('fixed', fixed);
  for (const b of box.querySelectorAll('button')) b.disabled = fixed;
}

// by: +1 the next choice, -1 the one before (the camera's order)
async function stepSetting(name, by) {
  const st = settingByCanonical(name);
  if (!st || st.read_only || st.type !== 'choice' || !st.choices.length) return;
  const i = st.choices.indexOf(st.value);
  const next = st.choices[Math.min(st.choices.length - 1, Math.max(0, (i < 0 ? 0 : i) + by))];
  if (next === st.value) return;
  st.value = next; // shown at once; the camera's answer (setting_changed) confirms or corrects it
  pendingSet.set(st.path, { value: next, at: Date.now() });
  st.words = st.choice_words ? st.choice_words[st.choices.indexOf(next)] : next;
  const box = document.querySelector(`#shooting .stepper[data-canonical="${name}"]`);
  if (box) showStepper(box, st);
  try {
    await api('POST', camPath('settings'), { path: st.path, value: next });
  } catch (e) {
    pendingSet.delete(st.path);
    toast(`${st.label || name}: ${e.message}`);
    loadSettings();
  }
}

// Values stepped here and not yet confirmed, by path: an older change's
// event arriving after a newer step must not take the control back (the
// next key would then step from the old value).
const pendingSet = new Map();

// Is s (a setting_changed) older news than a step still on its way?
function staleSetting(s) {
  const p = pendingSet.get(s.path);
  if (!p) return false;
  if (s.value === p.value || Date.now() - p.at > 3000) { pendingSet.delete(s.path); return false; }
  return true;
}

// Battery and shots left in the header, from the camera's settings.
function showBodyState() {
  const bat = settingByCanonical('battery'), left = settingByCanonical('shotsleft');
  $('#battery').hidden = !bat;
  if (bat) $('#battery').textContent = `battery ${bat.value}`;
  $('#shots-left').hidden = !left;
  if (left) $('#shots-left').textContent = `${left.value} shots left`;
}

// A node camera's settings come one by one (GET .../settings?name=iso):
// the shared ones, in the shape of a local camera's list.
// A node camera's shared settings, read one by one from the node.  A read
// the node could not answer (its camera busy sending a shot, a timeout) is
// counted in `unanswered` and tried again by loadSettings.
async function remoteSettings() {
  const got = await Promise.all(Object.keys(CANONICAL_LABEL).map((n) =>
    api('GET', camPath('settings') + '?name=' + encodeURIComponent(n)).then((x) => [n, x])
      .catch((e) => (e.status === 504 || ['camera_timeout', 'busy', 'node_unreachable'].includes(e.code)
        ? 'unanswered' : null))));
  return {
    unanswered: got.filter((x) => x === 'unanswered').length,
    settings: got.filter((x) => Array.isArray(x)).map(([n, x]) => ({
      path: x.name, name: x.name, canonical: x.canonical || n, label: x.label || CANONICAL_LABEL[n], value: x.value,
      read_only: x.read_only, choices: x.choices || [], type: (x.choices || []).length ? 'choice' : 'text' })),
  };
}

const unansweredRetries = new Map(); // camera id -> reloads for a node's unanswered reads
const unansweredTimers = new Map(); // camera id -> the pending reload

async function loadSettings() {
  const id = cams.selected;
  try {
    const r = isRemote(selectedCamera()) ? await remoteSettings() : await api('GET', camPath('settings'));
    if (id !== cams.selected) return; // another camera was selected meanwhile
    state.settings = r.settings;
    renderShooting();
    $('#focus-none').textContent = focusNoneText(selectedCamera());
    // the settings every camera shares first, in a photographer's words;
    // the camera's own tree (PTP properties, modes, actions) under Advanced
    const canon = Object.keys(CANONICAL_LABEL);
    const shared = r.settings.filter((x) => x.canonical && canon.includes(x.canonical))
      .sort((a, b) => canon.indexOf(a.canonical) - canon.indexOf(b.canonical));
    const groups = new Map();
    for (const s of r.settings) {
      if (shared.includes(s)) continue;
      const g = s.path.split('/')[2] || 'other';
      if (g === 'other') continue; // raw property dumps
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(s);
    }
    const order = ['capturesettings', 'imgsettings', 'actions', 'settings', 'status'];
    const names = [...groups.keys()].sort((a, b) => (order.indexOf(a) + 99) % 99 - (order.indexOf(b) + 99) % 99);
    const advancedOpen = localStorage.getItem('tether.advanced') === 'open';
    const advanced = el('details', { class: 'advanced', open: advancedOpen ? '' : null },
      el('summary', {}, 'Advanced: the camera\'s own settings'),
      ...names.map((g) => el('details', { open: '' }, el('summary', {}, g.replace('settings', ' settings')), ...groups.get(g).map(control))));
    advanced.addEventListener('toggle', () => localStorage.setItem('tether.advanced', advanced.open ? 'open' : 'closed'));
    $('#settings').dataset.camera = id || '';
    $('#settings').replaceChildren(el('div', { class: 'shared-settings' }, ...shared.map(control)), advanced);
    // a node that could not answer every read is asked again while its
    // camera stays selected: after 2 s, then less and less often (every
    // 30 s at most), so a slow link fills the controls in the end
    if (r.unanswered) {
      const tries = (unansweredRetries.get(id) || 0) + 1;
      unansweredRetries.set(id, tries);
      clearTimeout(unansweredTimers.get(id)); // one chain of retries per camera
      unansweredTimers.set(id, setTimeout(() => { if (id === cams.selected) loadSettings(); },
        Math.min(30000, 2000 * 2 ** Math.min(tries - 1, 4))));
    } else {
      unansweredRetries.delete(id);
    }
  } catch (e) {
    if (id !== cams.selected) return;
    if (lostCamera(e)) {
      state.settings = [];
      $('#settings').dataset.camera = id || '';
      $('#settings').replaceChildren(el('p', { class: 'result' }, 'The camera is lost: its settings come back with it.'));
      return;
    }
    $('#settings').replaceChildren(el('p', { class: 'result bad' }, 'Settings: ' + e.message));
    toast('Settings: ' + e.message);
  }
}

// A setting changed (here, by a key held on its list, or on the body):
// the row is redrawn, unless the photographer is on it: then its control
// is updated in place, so the keyboard focus stays and the next arrow key
// moves on from the new value (a redrawn row dropped the focus to the
// page, where Space fires the shutter).
function updateSetting(s) {
  if (!s.type || staleSetting(s)) return;
  const idx = (state.settings || []).findIndex((x) => x.path === s.path);
  if (idx >= 0) state.settings[idx] = s;
  if (s.canonical) renderShooting(); // values only: the focused stepper keeps the focus
  const row = document.querySelector(`.setting[data-path="${CSS.escape(s.path)}"]`);
  if (!row) return;
  const input = row.querySelector('select, input:not([title="keep in presets"]), span.ro');
  if (!input || !row.contains(document.activeElement)) {
    row.replaceWith(control(s));
    return;
  }
  if (input.tagName === 'SELECT' && s.type === 'choice') {
    const words = s.choice_words || s.choices;
    const same = input.options.length === s.choices.length && s.choices.every((c, i) => input.options[i].value === c);
    if (!same) input.replaceChildren(...s.choices.map((c, i) => el('option', { value: c }, words[i] || c)));
    input.value = s.value;
  } else if (input.type === 'checkbox' && s.type === 'toggle') {
    input.checked = s.value === '1';
  } else if (input.tagName === 'INPUT' && document.activeElement !== input) {
    input.value = s.value;
  }
}

// ---- focus: area, peaking, AF, trap, stack ----------------------------------------------

const focus = {
  area: { x: 0.4, y: 0.4, w: 0.2, h: 0.2 },
  running: null, // the running job: {id, tool, ...}
  peaking: localStorage.getItem('tether.peaking') === 'on',
  colour: localStorage.getItem('tether.peakingColour') || 'red',
  sensitivity: localStorage.getItem('tether.peakingSensitivity') || 'medium',
  enfuse: true,
  trapStopping: false, // the photographer turned trap focus off; the server is stopping it
};
const PEAK_RGB = { red: [255, 40, 40], green: [40, 255, 60], blue: [60, 120, 255], yellow: [255, 230, 0], white: [255, 255, 255] };
const PEAK_WIDTH = 480;      // peaking works on the frame scaled to this width
// An edge lights up when its contrast (the Laplacian of the frame at 480 px)
// reaches a fixed level, as on a camera: a blurred frame shows nothing, so
// "no colour" means "not in focus".  (A share of the strongest edges, as
// before, lit up outlines on a frame at the blur floor.)  Measured on the
// simulator's studio scene: the sharp frame has 10 % of its pixels at 96 or
// more, 25 Near1 steps off 0.7 %, 50 steps off none.
const PEAK_LEVEL = { low: 140, medium: 96, high: 64 };
const PEAK_MAX_FRACTION = 0.08; // never paint over more than the strongest 8 % (a busy texture in focus)

// Where the picture is inside the <img> (object-fit: contain), in CSS pixels.
function liveRect() {
  const img = $('#live');
  const cw = img.clientWidth, ch = img.clientHeight;
  const nw = img.naturalWidth || 3, nh = img.naturalHeight || 2;
  const k = Math.min(cw / nw, ch / nh);
  const w = nw * k, h = nh * k;
  return { x: (cw - w) / 2, y: (ch - h) / 2, w, h };
}

function placeOverlays() {
  const r = liveRect();
  for (const c of [$('#peaking'), $('#guides')])
    Object.assign(c.style, { left: r.x + 'px', top: r.y + 'px', width: r.w + 'px', height: r.h + 'px' });
  const a = focus.area, box = $('#focus-area');
  Object.assign(box.style, { left: r.x + a.x * r.w + 'px', top: r.y + a.y * r.h + 'px', width: a.w * r.w + 'px', height: a.h * r.h + 'px' });
  // magnified, the frame is the focus area itself: no box to draw in it
  box.hidden = aids.zoom > 1;
  drawGuides(r);
}

// ---- the sharpness meter: the focus area's sharpness against the best
// seen since the area or the magnification last changed; fed by the focus
// tools' progress while one runs (what trap focus waits for), else by
// GET /api/focus/measure a few times a second while ticked ----

const meter = { best: 0, timer: null, key: '' };

function showSharpness(value) {
  if (!(value >= 0)) return;
  const key = JSON.stringify([focus.area, aids.zoom]);
  if (key !== meter.key) { meter.key = key; meter.best = 0; } // another area, another scale
  meter.best = Math.max(meter.best, value);
  const share = meter.best > 0 ? value / meter.best : 0;
  $('#sharpness').value = share;
  $('#sharpness-text').textContent = `${Math.round(share * 100)} % of the best seen (${value.toPrecision(3)})`;
}

async function meterTick() {
  meter.timer = null;
  if (!$('#meter-on').checked) return;
  if (!focus.running) { // a running tool's progress feeds the meter itself
    try { showSharpness((await api('GET', camPath('focus/measure'))).tenengrad); } catch (e) { /* the next tick tries again */ }
  }
  meter.timer = setTimeout(meterTick, 400);
}

function setMeter(on) {
  $('#meter-on').checked = on;
  localStorage.setItem('tether.meter', on ? 'on' : 'off');
  if (on && !meter.timer) meterTick();
  if (!on) { $('#sharpness-text').textContent = ''; $('#sharpness').value = 0; }
}

// ---- live-view aids: guides, the camera's magnified view, full screen ----

const aids = { guides: localStorage.getItem('tether.guides') || 'none', zoom: 1 };

// Lines over the picture (r: where it is in the viewer): thirds, a 4x4
// grid, or the frame of a crop to another aspect ratio (outside darkened).
function drawGuides(r) {
  const c = $('#guides');
  c.hidden = aids.guides === 'none';
  if (c.hidden || !r.w) return;
  const dpr = window.devicePixelRatio || 1;
  c.width = Math.round(r.w * dpr);
  c.height = Math.round(r.h * dpr);
  const g = c.getContext('2d');
  const W = c.width, H = c.height;
  g.clearRect(0, 0, W, H);
  g.strokeStyle = 'rgba(255,255,255,.7)';
  g.lineWidth = Math.max(1, dpr);
  const line = (x0, y0, x1, y1) => { g.beginPath(); g.moveTo(x0, y0); g.lineTo(x1, y1); g.stroke(); };
  const lines = (n) => {
    for (let i = 1; i < n; i++) {
      line(W * i / n, 0, W * i / n, H);
      line(0, H * i / n, W, H * i / n);
    }
  };
  if (aids.guides === 'thirds') lines(3);
  else if (aids.guides === 'grid') lines(4);
  else {
    const [aw, ah] = aids.guides.split(':').map(Number);
    const want = aw / ah;
    let cw = W, ch = H;
    if (W / H > want) cw = H * want; else ch = W / want;
    const x = (W - cw) / 2, y = (H - ch) / 2;
    g.fillStyle = 'rgba(0,0,0,.55)';
    g.fillRect(0, 0, W, y); g.fillRect(0, y + ch, W, H - y - ch);
    g.fillRect(0, y, x, ch); g.fillRect(x + cw, y, W - x - cw, ch);
    g.strokeRect(x, y, cw, ch);
  }
}

function setGuides(kind) {
  aids.guides = ['none', 'thirds', 'grid', '1:1', '4:5', '16:9'].includes(kind) ? kind : 'none';
  localStorage.setItem('tether.guides', aids.guides);
  $('#guides-kind').value = aids.guides;
  placeOverlays();
}

function showZoom(factor) {
  aids.zoom = factor > 1 ? factor : 1;
  for (const b of document.querySelectorAll('#zoom-buttons button'))
    b.setAttribute('aria-pressed', Number(b.dataset.zoom) === aids.zoom ? 'true' : 'false');
  const badge = $('#zoom-badge');
  badge.textContent = `${aids.zoom}× at the focus area`;
  badge.hidden = aids.zoom === 1;
  placeOverlays();
}

async function setZoom(factor) {
  try {
    showZoom((await api('POST', camPath('focus/zoom'), { factor })).factor);
  } catch (e) {
    toast('Magnify: ' + e.message);
  }
}

// The magnifier is offered when the selected camera has one.
function showZoomButtons(c) {
  const caps = (c && c.capabilities) || {};
  $('#zoom-buttons').hidden = !caps.zoom;
  for (const b of document.querySelectorAll('#zoom-buttons button'))
    b.hidden = Number(b.dataset.zoom) > Math.max(1, (caps.focus && caps.focus.zoom_max) || 10);
}

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else $('#viewer').requestFullscreen().catch((e) => toast('Full screen: ' + e.message));
}

// ---- drawers: the panels used now and then (time-lapse, import, tagging,
// webhooks, presets) fold to their title, closed until opened; what is
// open is remembered by the browser ----

function initDrawers() {
  let open = {};
  try { open = JSON.parse(localStorage.getItem('tether.drawers') || '{}') || {}; } catch (e) { open = {}; }
  for (const sec of document.querySelectorAll('section[data-drawer]')) {
    const name = sec.dataset.drawer;
    const toggle = el('button', { type: 'button', class: 'drawer-toggle', 'aria-controls': sec.id,
      title: 'Show or hide this panel' });
    const show = (on) => {
      sec.classList.toggle('closed', !on);
      toggle.setAttribute('aria-expanded', on ? 'true' : 'false');
      toggle.textContent = on ? '▾' : '▸';
    };
    toggle.addEventListener('click', () => {
      const on = sec.classList.contains('closed');
      show(on);
      open[name] = on;
      localStorage.setItem('tether.drawers', JSON.stringify(open));
    });
    sec.querySelector('h2').prepend(toggle);
    show(!!open[name]);
  }
}

function initAids() {
  $('#meter-on').addEventListener('change', (e) => setMeter(e.target.checked));
  setMeter(localStorage.getItem('tether.meter') === 'on');
  $('#guides-kind').addEventListener('change', (e) => setGuides(e.target.value));
  $('#zoom-buttons').addEventListener('click', (e) => { const b = e.target.closest('button'); if (b) setZoom(Number(b.dataset.zoom)); });
  $('#fullscreen').addEventListener('click', toggleFullscreen);
  document.addEventListener('fullscreenchange', placeOverlays);
  setGuides(aids.guides);
}

function showArea(a) {
  focus.area = a;
  const size = [...$('#area-size').options].map((o) => Number(o.value)).reduce((best, v) => Math.abs(v - a.w) < Math.abs(best - a.w) ? v : best);
  $('#area-size').value = String(size);
  placeOverlays();
}

async function setArea(cx, cy, size) {
  const w = size, h = size;
  const clamp = (v, hi) => Math.floor(Math.min(Math.max(v, 0), hi) * 10000) / 10000;
  const a = { x: clamp(cx - w / 2, 1 - w), y: clamp(cy - h / 2, 1 - h), w, h };
  showArea(a);
  try {
    showArea((await api('POST', camPath('focus/area'), a)).area);
  } catch (e) {
    toast('Focus area: ' + e.message);
  }
}

function onViewerClick(e) {
  if (document.body.classList.contains('camera-away')) return;
  if (aids.zoom > 1) { toast('Magnified: go back to 1× to move the focus area', 'info'); return; }
  const img = $('#live');
  const b = img.getBoundingClientRect(), r = liveRect();
  const fx = (e.clientX - b.left - r.x) / r.w, fy = (e.clientY - b.top - r.y) / r.h;
  if (fx < 0 || fx > 1 || fy < 0 || fy > 1) return;
  setArea(fx, fy, Number($('#area-size').value));
  if (touchSetting()) touchFocus(fx, fy);
}

// ---- touch AF: a camera that focuses where the picture is touched (a Sony
// Wi-Fi body has no focus drive; its backend offers the "touchaf"
// setting, X,Y in percent), and the camera's own focus frames
// ("focusframes": "L,T,R,B STATUS; ..." in 10000ths of the frame) drawn
// over live view for a few seconds after ----

function touchSetting() {
  return (state.settings || []).find((x) => x.name === 'touchaf' && !x.read_only);
}

// What the focus panel says when the camera's lens cannot be driven from
// here.  Both writers use it, the settings' load and the camera list's
// refresh, so a refresh after the load no longer says "cannot be driven"
// of a camera that focuses by touch.
function focusNoneText(c) {
  if (isRemote(c)) return remoteNote(c);
  return touchSetting() ? 'Click the picture to focus there: this camera focuses by touch, it has no focus drive.'
    : 'This camera\'s lens cannot be driven from here: no drive, AF or stack.';
}

async function touchFocus(fx, fy) {
  const st = touchSetting();
  try {
    await api('POST', camPath('settings'), { path: st.path, value: `${Math.round(fx * 100)},${Math.round(fy * 100)}` });
  } catch (e) {
    toast('Touch AF: ' + e.message);
    return;
  }
  const end = Date.now() + 4000;
  const id = cams.selected;
  while (Date.now() < end && id === cams.selected) {
    try {
      const r = await api('GET', camPath('settings'));
      const ff = r.settings.find((x) => x.name === 'focusframes');
      drawCameraFrames(ff ? ff.value : '');
    } catch (e) {
      break;
    }
    await new Promise((done) => setTimeout(done, 400));
  }
  $('#cam-frames').replaceChildren();
}

function drawCameraFrames(text) {
  const r = liveRect();
  const frames = String(text).split(';').map((f) => /^\s*(\d+),(\d+),(\d+),(\d+) (\w+)/.exec(f)).filter(Boolean);
  $('#cam-frames').replaceChildren(...frames.map((m) => {
    const [l, t, rt, b] = m.slice(1, 5).map((v) => Number(v) / 10000);
    return el('div', { class: `cam-frame ${m[5]}`, title: `the camera's focus frame (${m[5]})`,
      style: `left:${r.x + l * r.w}px;top:${r.y + t * r.h}px;width:${(rt - l) * r.w}px;height:${(b - t) * r.h}px` });
  }));
}

// Focus peaking: a 4-neighbour Laplacian on the luma of the frame shown,
// scaled down for speed, keeping the strongest edges in the chosen colour.
const peakWork = document.createElement('canvas');
function drawPeaking() {
  const img = $('#live'), out = $('#peaking');
  if (!focus.peaking || !img.naturalWidth) return; // (an MJPEG <img> never "completes" in some browsers)
  const W = Math.min(PEAK_WIDTH, img.naturalWidth), H = Math.max(3, Math.round(W * img.naturalHeight / img.naturalWidth));
  if (peakWork.width !== W || peakWork.height !== H) { peakWork.width = W; peakWork.height = H; }
  if (out.width !== W || out.height !== H) { out.width = W; out.height = H; }
  const g = peakWork.getContext('2d', { willReadFrequently: true });
  try { g.drawImage(img, 0, 0, W, H); } catch (e) { return; }
  const px = g.getImageData(0, 0, W, H).data;
  const n = W * H, y = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) y[i] = (77 * px[j] + 150 * px[j + 1] + 29 * px[j + 2]) >> 8;
  const lap = new Uint16Array(n), hist = new Uint32Array(1021);
  for (let r = 1; r < H - 1; r++) {
    for (let c = 1, i = r * W + 1; c < W - 1; c++, i++) {
      const v = Math.abs(4 * y[i] - y[i - 1] - y[i + 1] - y[i - W] - y[i + W]);
      lap[i] = v;
      hist[v]++;
    }
  }
  // the sensitivity's level, raised only where more than PEAK_MAX_FRACTION would light up
  let keep = n * PEAK_MAX_FRACTION, t = 1020;
  for (let acc = 0; t > 0; t--) { acc += hist[t]; if (acc >= keep) break; }
  t = Math.max(t, PEAK_LEVEL[focus.sensitivity] || PEAK_LEVEL.medium);
  const o = out.getContext('2d');
  const im = o.createImageData(W, H), d = im.data;
  const [cr, cg, cb] = PEAK_RGB[focus.colour] || PEAK_RGB.red;
  let lit = 0;
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    if (lap[i] >= t) { d[j] = cr; d[j + 1] = cg; d[j + 2] = cb; d[j + 3] = 255; lit++; }
  }
  o.putImageData(im, 0, 0);
  out.dataset.lit = lit;
}

function peakingLoop() {
  if (!focus.peaking) return;
  drawPeaking();
  setTimeout(() => requestAnimationFrame(peakingLoop), 80);
}

function setPeaking(on) {
  focus.peaking = on;
  localStorage.setItem('tether.peaking', on ? 'on' : 'off');
  $('#peaking-on').checked = on;
  $('#peaking').hidden = !on;
  if (on) { placeOverlays(); peakingLoop(); }
}

function setPeakingSensitivity(level) {
  if (!PEAK_LEVEL[level]) level = 'medium';
  focus.sensitivity = level;
  localStorage.setItem('tether.peakingSensitivity', level);
  $('#peaking-sensitivity').value = level;
}

function setPeakingColour(colour) {
  if (!PEAK_RGB[colour]) colour = 'red';
  focus.colour = colour;
  localStorage.setItem('tether.peakingColour', colour);
  for (const b of document.querySelectorAll('#peaking-colours .swatch')) {
    const on = b.dataset.colour === colour;
    b.classList.toggle('on', on);
    b.setAttribute('aria-checked', on ? 'true' : 'false');
    b.setAttribute('role', 'radio');
  }
  if (focus.peaking) drawPeaking();
}

// ---- the tools ----

const STAGES = { homing: 'finding the near end', sweep: 'sweeping the range', medium: 'narrowing down', fine: 'fine search',
  approach: 'approaching the peak', watching: 'watching', armed: 'armed', firing: 'firing', stepping: 'stepping the focus',
  capturing: 'taking pictures', merging: 'merging with enfuse', done: 'finishing' };

function result(id, text, kind) {
  const p = $(id);
  p.textContent = text || '';
  p.className = 'result' + (kind ? ' ' + kind : '');
}

const RESULT_OF = { autofocus: '#af-result', trap: '#trap-result', stack: '#stack-result' };

function showRunning(job, progress) {
  focus.running = job;
  const busy = !!job;
  if (busy && RESULT_OF[job.tool]) result(RESULT_OF[job.tool], ''); // a new run: the last one's verdict goes
  if (busy && aids.zoom > 1) showZoom(1); // the tools set the magnification they use
  $('#af').disabled = busy;
  $('#stack-go').disabled = busy;
  $('#trap-on').disabled = busy && job.tool !== 'trap';
  // (a trap the photographer just turned off stays off while the server
  // stops it: its progress still arrives meanwhile)
  if (!busy) focus.trapStopping = false;
  $('#trap-on').checked = !!job && job.tool === 'trap' && !focus.trapStopping;
  $('#focus-cancel').hidden = !busy;
  $('#focus-progress').hidden = !busy || job.tool === 'trap';
  if (!busy) { $('#focus-running').textContent = ''; return; }
  const names = { autofocus: 'Autofocus', trap: 'Trap focus', stack: 'Stack' };
  let text = names[job.tool] || job.tool;
  if (progress) {
    text += ': ' + (STAGES[progress.stage] || progress.stage);
    if (job.tool === 'stack' && job.options) text += ` (${progress.frames} of ${job.options.count})`;
    else if (progress.frames) text += ` · ${progress.frames} frames`;
    $('#focus-progress').value = progress.fraction || 0;
    if (job.tool === 'trap') setTrapState(progress.stage === 'done' ? 'watching' : progress.stage);
  } else {
    text += '…';
    $('#focus-progress').value = 0;
    if (job.tool === 'trap') setTrapState('watching');
  }
  $('#focus-running').textContent = text;
}

function setTrapState(stage) {
  const pill = $('#trap-state');
  pill.textContent = stage;
  pill.className = 'pill ' + stage;
}

// A tool's verdict.  earlier: a run that ended before this page was
// opened, shown as history with its time, never as the state of now (a
// reload used to show "Fired" in green with trap focus off).
function showResult(r, earlier) {
  if (!r) return;
  const when = earlier && r.finished
    ? `Last run, ${new Date(r.finished * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}: ` : '';
  const kind = (good, neutral) => (earlier ? 'earlier' : good ? 'ok' : neutral ? '' : 'bad');
  if (r.tool === 'autofocus') {
    const secs = r.seconds ? ` · ${r.seconds.toFixed(1)} s` : '';
    result('#af-result', when + r.message + secs, kind(r.status === 'focused', r.status === 'cancelled'));
  } else if (r.tool === 'trap') {
    if (!earlier) setTrapState(r.status);
    result('#trap-result', when + (r.reason || r.message), kind(r.status === 'fired', r.status !== 'error'));
  } else if (r.tool === 'stack') {
    const p = $('#stack-result');
    result('#stack-result', when + r.message, kind(r.status === 'done', r.status === 'cancelled'));
    if (r.merged) p.append(' ', el('a', { href: r.merged, target: '_blank' }, 'Open the merged picture'));
  }
}

async function startTool(path, body) {
  try {
    const r = await api('POST', path, body);
    showRunning(r.job, null);
    return true;
  } catch (e) {
    toast(e.message);
    return false;
  }
}

async function autofocus() {
  result('#af-result', '');
  await startTool(camPath('focus/auto'), { mode: $('#af-mode').value });
}

async function trapToggle(e) {
  const on = e.target.checked;
  if (on) {
    focus.trapStopping = false;
    result('#trap-result', '');
    if (!$('#meter-on').checked) setMeter(true); // what trap focus waits for, in view
    if (!(await startTool(camPath('focus/trap'), { on: true }))) e.target.checked = false;
  } else {
    focus.trapStopping = true;
    try {
      await api('POST', camPath('focus/trap'), { on: false });
    } catch (err) {
      focus.trapStopping = false;
      toast(err.message);
    }
  }
}

async function stack(ev) {
  ev.preventDefault();
  result('#stack-result', '');
  await startTool(camPath('focus/stack'), { count: Number($('#stack-count').value), span: Number($('#stack-span').value),
    direction: $('#stack-direction').value, merge: $('#stack-merge').checked });
}

async function drive(e) {
  const b = e.target.closest('button');
  if (!b) return;
  try {
    await api('POST', camPath('focus/drive'), { direction: b.dataset.dir, step: Number(b.dataset.step) });
  } catch (err) {
    toast('Focus drive: ' + err.message);
  }
}

function showStackHint() {
  const hint = $('#stack-hint');
  hint.hidden = focus.enfuse || !$('#stack-merge').checked;
  hint.textContent = 'enfuse is not installed here: the pictures are kept and the result says how to merge them.';
}

async function loadFocus() {
  const id = cams.selected;
  const f = await api('GET', camPath('focus'));
  if (id !== cams.selected) return;
  focus.enfuse = f.enfuse;
  showStackHint();
  showArea(f.area);
  showZoom(f.zoom || 1);
  showZoomButtons(selectedCamera());
  for (const r of Object.values(f.last)) showResult(r, true);
  if (!f.running) setTrapState('off');
  showRunning(f.running, f.running && f.running.progress);
}

function focusEvents(onCam) {
  onCam('focus', (d) => {
    if (focus.running && focus.running.id === d.job) showRunning(focus.running, d);
    else loadFocus().catch(() => {});
    if (d.measure !== null && d.measure !== undefined) showSharpness(d.measure);
  });
  onCam('focus_result', (d) => { showRunning(null); showResult(d); });
  onCam('focus_area', (d) => showArea(d.area));
  onCam('focus_zoom', (d) => showZoom(d.factor));
}

function initFocus() {
  $('#viewer').addEventListener('click', onViewerClick);
  $('#live').addEventListener('load', placeOverlays);
  new ResizeObserver(placeOverlays).observe($('#viewer'));
  $('#peaking-on').addEventListener('change', (e) => setPeaking(e.target.checked));
  $('#peaking-colours').addEventListener('click', (e) => { const b = e.target.closest('.swatch'); if (b) setPeakingColour(b.dataset.colour); });
  $('#area-size').addEventListener('change', (e) => {
    const a = focus.area;
    setArea(a.x + a.w / 2, a.y + a.h / 2, Number(e.target.value));
  });
  $('#af').addEventListener('click', autofocus);
  $('#trap-on').addEventListener('change', trapToggle);
  $('#stack').addEventListener('submit', stack);
  $('#stack-merge').addEventListener('change', showStackHint);
  $('#focus-cancel').addEventListener('click', () => api('POST', camPath('focus/cancel')).catch((e) => toast(e.message)));
  document.querySelector('.drive').addEventListener('click', drive);
  $('#peaking-sensitivity').addEventListener('change', (e) => setPeakingSensitivity(e.target.value));
  setPeakingColour(focus.colour);
  setPeakingSensitivity(focus.sensitivity);
  setPeaking(focus.peaking);
}

// ---- events -----------------------------------------------------------------------------

// A picture taken with the camera's own button: said beside Capture, and
// the live view flashes as a shutter would, so it is seen from across
// the room.
function bodyShot(d) {
  const files = (d.photos || []).map((p) => p.file).join(', ');
  $('#capture-status').textContent = 'shot on the camera: ' + files;
  const v = $('#viewer');
  v.classList.remove('shot');
  void v.offsetWidth; // restarts the animation on a second shot in a row
  v.classList.add('shot');
}

function listen() {
  const es = new EventSource('/api/events');
  state.events = es; // other panels' scripts (webhooks.js) listen too
  const on = (type, fn) => es.addEventListener(type, (m) => fn(JSON.parse(m.data).data));
  // onCam: only the events about the selected camera
  const onCam = (type, fn) => on(type, (d) => { if (aboutSelected(d)) fn(d); });
  on('capture', (d) => {
    loadMini();
    loadSessions();
    if (d && d.source === 'camera' && aboutSelected(d)) bodyShot(d);
  });
  on('photo_deleted', () => loadMini());
  onCam('setting_changed', (d) => { if (d.path && d.type) updateSetting(d); else loadSettings(); });
  // (cameras.js marks the camera in the switcher and the grid)
  onCam('camera_lost', () => showLink(false));
  onCam('camera_back', () => { showLink(true); loadSettings(); loadFocus().catch(() => {}); });
  on('session_changed', () => { loadSessions(); loadMini(); loadNaming().catch(() => {}); });
  on('naming', (d) => showNaming(d));
  on('preset_saved', loadPresets);
  on('preset_deleted', loadPresets);
  on('preset_applied', () => {});
  on('storage', showStorage);
  focusEvents(onCam);
}

// ---- selecting a camera -------------------------------------------------------------------

// Makes id the camera the panels act on and reloads them; the live view
// follows.  (cameras.js calls it from the switcher, the grid and the keys.)
function selectCamera(id) {
  cams.selected = id;
  if (id) localStorage.setItem('tether.camera', id);
  const c = selectedCamera();
  if (c) {
    $('#camera').textContent = cameraName(c);
    showLink(c.connected !== false);
  }
  $('#capture-status').textContent = '';
  if (cams.multi && !c) { // every camera was removed
    $('#live').removeAttribute('src');
    showLink(false);
    return;
  }
  showRunning(null);
  for (const line of ['#af-result', '#trap-result', '#stack-result']) result(line, '');
  setTrapState('off');
  if (!$('#viewer').hidden) showLive(streamUrl(id)); // (the grid has its own)
  for (const fn of cams.watchers) fn(c);
}

onCameraSelected(() => loadStatus().catch((e) => toast(e.message)));
onCameraSelected(() => loadSettings());
onCameraSelected((c) => { if (!isRemote(c)) loadFocus().catch((e) => { if (!lostCamera(e)) toast('Focus: ' + e.message); }); });

// ---- start ------------------------------------------------------------------------------

$('#capture').addEventListener('click', capture);
$('#session').addEventListener('change', (e) => switchSession(e.target.value));
$('#new-session').addEventListener('submit', createSession);
$('#naming').addEventListener('submit', saveNaming);
$('#save-preset').addEventListener('submit', savePreset);
document.addEventListener('keydown', (e) => {
  const typing = ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement.tagName);
  if ((e.key === 'f' || e.key === 'F') && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
    e.preventDefault();
    toggleFullscreen();
    return;
  }
  if (e.code === 'Space' && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey &&
      !['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(document.activeElement.tagName)) {
    e.preventDefault(); // nor does it scroll the page away from the live view
    if (document.activeElement.closest('[role="spinbutton"]')) return; // a focused control keeps its keys
    if (document.body.classList.contains('camera-away')) return;
    if (!$('#camera-grid').hidden && cams.selected) captureOne(cams.selected); // its tile shows the result (cameras.js)
    else if (!$('#capture').disabled) capture();
  }
});
initFocus();
initAids();
initDrawers();
listen();
// The cameras first (cameras.js's loadCameras, once every script has
// run), then the selected one's panels and the studio's own.
window.addEventListener('DOMContentLoaded', () => {
  loadCameras().then(() => Promise.all([loadSessions(), loadMini(), loadPresets(), loadNaming()])).catch((e) => toast(e.message));
});
// the free space as photos come in (a change of health comes at once, as a "storage" event)
setInterval(() => api('GET', '/api/status').then((s) => showStorage(s.storage)).catch(() => {}), 30000);
