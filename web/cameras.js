// tether studio: several cameras on the main page (docs/API.md, "Cameras").
// Loaded after app.js, whose helpers ($, api, el, toast), camera state
// (cams, camPath, streamUrl, selectCamera, cameraName, cameraColour) and
// event stream (state.events) it uses.
//
// - The switcher (#camera-tabs, shown with two cameras or more): each
//   camera's name and colour, marked while it is lost; a click, the arrow
//   keys in it or the keys 1 to 9 select the camera the panels act on.
// - The grid (#camera-grid, the Grid button or G): one tile per camera with
//   its live view, name, state and a Capture button; a click on a tile
//   selects that camera, a double click opens its single view.  Up to three
//   tiles show each camera's MJPEG stream; with more (a browser opens only
//   six connections to a server, and the events and the API need theirs)
//   the tiles show snapshots, fetched one camera after another.
// - Capture all (the button or Shift+Space): POST /api/capture
//   {"cameras": "all"}, then each camera's result, when it fired against
//   the first, and the trigger spread.
// - The camera manager (Cameras…): each camera's spec and last error,
//   Remove, and a field to add one by its spec.
// The list comes from GET /api/cameras and is kept current by the
// camera_lost / camera_back events (each tile and tab changes at once) and
// camera_added / camera_removed (the list is read again), and read again
// whenever the event stream reconnects (events may have been missed).
'use strict';

const camUi = {
  grid: localStorage.getItem('tether.grid') === 'on',
  snapshotRun: 0, // the snapshot loop running, by number; another number stops it
  reloadTimer: null,
  adding: false,
  started: false, // the first list was read and a camera selected
};
const MAX_GRID_STREAMS = 3;

// ---- the list -----------------------------------------------------------------------------

// The cameras the server serves, or null when it has no /api/cameras (one
// camera, driven through the old routes).
async function fetchCameraList() {
  const r = await fetch('/api/cameras');
  if (r.status === 404) return null;
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error ? data.error.message : `${r.status} ${r.statusText}`);
  return Array.isArray(data.cameras) ? data.cameras : [];
}

async function loadCameras() {
  let list;
  try {
    list = await fetchCameraList();
  } catch (e) {
    toast('Cameras: ' + e.message);
    if (cams.multi) return; // keep what is shown; the next event or reconnection reads the list again
    list = null;
  }
  if (list === null) {
    cams.multi = false;
    renderCameras();
    selectCamera(null);
    return;
  }
  cams.multi = true;
  cams.list = list;
  const remembered = localStorage.getItem('tether.camera');
  const next = cameraById(cams.selected) ? cams.selected
    : cameraById(remembered) ? remembered
      : (list.find((c) => c.primary) || list[0] || { id: null }).id;
  renderCameras();
  if (next !== cams.selected || !camUi.started) selectCamera(next);
  else if (selectedCamera()) showLink(selectedCamera().connected !== false);
  camUi.started = true;
}

function loadCamerasSoon() {
  clearTimeout(camUi.reloadTimer);
  camUi.reloadTimer = setTimeout(loadCameras, 150);
}

function setCameraLink(d, connected) {
  const c = d && cameraById(d.camera);
  if (!c) return;
  c.connected = connected;
  if (!connected && d.detail) c.last_error = d.detail;
  renderCameras();
}

// ---- the switcher ------------------------------------------------------------------------

function cameraTitle(c) {
  return [c.identity || c.model, c.spec, c.connected === false ? 'lost' + (c.last_error ? ': ' + c.last_error : '') : '']
    .filter(Boolean).join(' · ');
}

function renderTabs() {
  const tabs = $('#camera-tabs');
  tabs.replaceChildren(...cams.list.map((c, i) => {
    const lost = c.connected === false;
    const on = c.id === cams.selected;
    return el('button', {
      type: 'button', role: 'tab', class: 'camera-tab' + (lost ? ' away' : ''), 'data-camera': c.id,
      'aria-selected': on ? 'true' : 'false', tabindex: on ? '0' : '-1', style: `--cam:${cameraColour(c.id)}`,
      title: cameraTitle(c) + (i < 9 ? ` (key ${i + 1})` : ''), onclick: () => pickCamera(c.id),
    }, el('span', { class: 'dot', 'aria-hidden': 'true' }), el('span', { class: 'name' }, cameraName(c)),
    el('span', { class: 'state' }, lost ? 'lost' : ''));
  }));
}

// Arrow keys, Home and End move through the tabs (and select).
function onTabsKey(e) {
  const ids = cams.list.map((c) => c.id);
  let i = ids.indexOf(cams.selected);
  if (e.key === 'ArrowRight' || e.key === 'ArrowDown') i = (i + 1) % ids.length;
  else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') i = (i - 1 + ids.length) % ids.length;
  else if (e.key === 'Home') i = 0;
  else if (e.key === 'End') i = ids.length - 1;
  else return;
  e.preventDefault();
  pickCamera(ids[i]);
  const tab = document.querySelector(`.camera-tab[data-camera="${CSS.escape(ids[i])}"]`);
  if (tab) tab.focus();
}

function pickCamera(id) {
  if (id === cams.selected) return;
  selectCamera(id);
  renderCameras();
}

// ---- the grid ------------------------------------------------------------------------------

function tileFor(id) {
  return document.querySelector(`#camera-grid .tile[data-camera="${CSS.escape(id)}"]`);
}

function makeTile(c) {
  const img = el('img', { alt: 'live view of ' + cameraName(c) });
  const view = el('button', { type: 'button', class: 'tile-view', onclick: () => pickCamera(c.id),
    ondblclick: () => { pickCamera(c.id); setGrid(false); } },
  img, el('span', { class: 'tile-state' }), el('span', { class: 'tile-lost' }, 'Camera lost: reconnecting…'));
  const shoot = el('button', { type: 'button', class: 'tile-capture', onclick: () => captureOne(c.id) }, 'Capture');
  return el('figure', { class: 'tile', 'data-camera': c.id },
    view,
    el('figcaption', {},
      el('span', { class: 'dot', 'aria-hidden': 'true' }), el('span', { class: 'tile-name' }), shoot),
    el('p', { class: 'tile-result result' }));
}

// Brings the tiles in line with the list, keeping the ones that stay (and
// so their streams).
function renderGrid() {
  const box = $('#camera-grid');
  const show = camUi.grid && cams.list.length > 1;
  for (const t of [...box.querySelectorAll('.tile')]) {
    if (!cameraById(t.dataset.camera)) { t.querySelector('img').removeAttribute('src'); t.remove(); }
  }
  for (const c of cams.list) {
    let t = tileFor(c.id);
    if (!t) t = makeTile(c);
    box.append(t); // in the list's order
    const lost = c.connected === false;
    const name = cameraName(c);
    t.style.setProperty('--cam', cameraColour(c.id));
    t.classList.toggle('away', lost);
    t.classList.toggle('selected', c.id === cams.selected);
    t.querySelector('.tile-view').setAttribute('aria-label', `select ${name}` + (lost ? ' (lost)' : ''));
    t.querySelector('.tile-view').setAttribute('aria-pressed', c.id === cams.selected ? 'true' : 'false');
    t.querySelector('.tile-view').title = cameraTitle(c);
    t.querySelector('.tile-name').textContent = name;
    t.querySelector('.tile-name').title = name;
    t.querySelector('.tile-state').textContent = lost ? 'lost' : 'connected';
    t.querySelector('.tile-capture').disabled = lost || t.dataset.busy === '1';
    t.querySelector('.tile-capture').setAttribute('aria-label', 'capture with ' + name);
  }
  box.classList.toggle('many', cams.list.length > 4);
  box.hidden = !show;
  $('#viewer').hidden = show;
  $('#actions').hidden = show;
  const live = $('#live');
  if (show) {
    live.removeAttribute('src'); // one connection less
    startGridImages();
  } else {
    stopGridImages();
    if (cams.selected || !cams.multi) showLive(streamUrl(cams.selected));
  }
}

function startGridImages() {
  if (cams.list.length <= MAX_GRID_STREAMS) {
    camUi.snapshotRun++;
    for (const c of cams.list) {
      const img = tileFor(c.id).querySelector('img');
      const url = streamUrl(c.id);
      if (img.getAttribute('src') !== url) img.src = url;
    }
  } else if (!camUi.snapshotLoop) {
    snapshotLoop(++camUi.snapshotRun);
  }
}

function stopGridImages() {
  camUi.snapshotRun++;
  for (const img of document.querySelectorAll('#camera-grid img')) img.removeAttribute('src');
}

// One snapshot per connected camera in turn, for as long as run is the
// loop wanted.
async function snapshotLoop(run) {
  camUi.snapshotLoop = true;
  try {
    while (run === camUi.snapshotRun) {
      const live = cams.list.filter((c) => c.connected !== false);
      for (const c of live) {
        if (run !== camUi.snapshotRun) return;
        const t = tileFor(c.id);
        if (!t) continue;
        const img = t.querySelector('img');
        await new Promise((done) => {
          img.onload = done;
          img.onerror = done;
          img.src = `/api/cameras/${encodeURIComponent(c.id)}/snapshot.jpg?at=${Date.now()}`;
        });
      }
      if (!live.length) await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    camUi.snapshotLoop = false;
  }
}

function setGrid(on) {
  camUi.grid = on;
  localStorage.setItem('tether.grid', on ? 'on' : 'off');
  renderCameras();
}

// ---- capture: one tile, or every camera --------------------------------------------------

async function captureOne(id) {
  const t = tileFor(id);
  if (!t || t.dataset.busy === '1') return;
  const line = t.querySelector('.tile-result');
  t.dataset.busy = '1';
  t.querySelector('.tile-capture').disabled = true;
  line.className = 'tile-result result';
  line.textContent = 'capturing…';
  try {
    const r = await api('POST', `/api/cameras/${encodeURIComponent(id)}/capture`);
    line.textContent = 'saved ' + r.photos.map((p) => p.file).join(', ');
    line.classList.add('ok');
  } catch (e) {
    line.textContent = 'failed: ' + e.message;
    line.classList.add('bad');
  } finally {
    delete t.dataset.busy;
    renderGrid();
  }
}

async function captureAll() {
  const b = $('#capture-all');
  if (b.disabled) return;
  b.disabled = true;
  b.textContent = 'Capturing…';
  const box = $('#capture-all-result');
  try {
    const r = await fetch('/api/capture', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ cameras: 'all' }) });
    const data = await r.json().catch(() => ({}));
    if (!Array.isArray(data.shots)) throw new Error(data.error ? data.error.message : `${r.status} ${r.statusText}`);
    showCaptureAll(data);
  } catch (e) {
    box.replaceChildren(el('div', { class: 'ca-head' }, el('strong', {}, 'Capture all failed: '), e.message, closeButton()));
    box.className = 'capture-all-result bad';
    box.hidden = false;
  } finally {
    b.disabled = false;
    b.textContent = 'Capture all';
  }
}

function closeButton() {
  return el('button', { type: 'button', class: 'small-btn', 'aria-label': 'close', title: 'close',
    onclick: () => { $('#capture-all-result').hidden = true; } }, '✕');
}

// Each camera's photos or error, and when it fired after the first.
function showCaptureAll(r) {
  const fired = r.shots.filter((s) => !s.error && s.trigger_ns);
  const first = fired.length ? Math.min(...fired.map((s) => s.trigger_ns)) : 0;
  const good = r.shots.filter((s) => !s.error).length;
  const spread = typeof r.spread_ms === 'number' ? `trigger spread ${r.spread_ms.toFixed(1)} ms` : '';
  const box = $('#capture-all-result');
  box.className = 'capture-all-result' + (good === r.shots.length ? ' ok' : ' bad');
  box.replaceChildren(
    el('div', { class: 'ca-head' }, el('strong', {}, 'Capture all'),
      el('span', {}, `${good} of ${r.shots.length} cameras`), el('span', { class: 'spread' }, spread), closeButton()),
    el('ul', { class: 'ca-shots' }, ...r.shots.map((s) => {
      const c = cameraById(s.camera);
      const offset = !s.error && s.trigger_ns && first ? `+${((s.trigger_ns - first) / 1e6).toFixed(1)} ms` : '';
      const what = s.error ? (s.error.message || s.error.code || 'failed')
        : (s.photos || []).map((p) => p.file).join(', ') || 'no photo';
      return el('li', { 'data-camera': s.camera, class: s.error ? 'bad' : 'ok', style: `--cam:${cameraColour(s.camera)}` },
        el('span', { class: 'dot', 'aria-hidden': 'true' }), el('span', { class: 'name' }, c ? cameraName(c) : s.camera),
        el('span', { class: 'offset' }, offset), el('span', { class: 'what' }, (s.error ? '✕ ' : '') + what));
    })));
  box.hidden = false;
}

// ---- adding and removing cameras ---------------------------------------------------------

function renderManager() {
  $('#camera-list').replaceChildren(...cams.list.map((c) => {
    const lost = c.connected === false;
    return el('li', { 'data-camera': c.id, style: `--cam:${cameraColour(c.id)}`, class: lost ? 'away' : '' },
      el('span', { class: 'dot', 'aria-hidden': 'true' }),
      el('span', { class: 'who' }, el('strong', {}, cameraName(c)), c.primary ? ' (primary)' : '',
        el('br'), el('small', { class: 'muted' }, c.spec || c.id),
        lost ? el('small', { class: 'bad' }, ' · lost' + (c.last_error ? ': ' + c.last_error : '')) : ''),
      el('button', { type: 'button', class: 'small-btn', 'aria-label': 'remove ' + cameraName(c),
        onclick: () => removeCamera(c) }, 'Remove'));
  }));
}

async function addCamera(e) {
  e.preventDefault();
  if (camUi.adding) return;
  const spec = $('#camera-spec').value.trim();
  const out = $('#camera-add-result');
  camUi.adding = true;
  $('#camera-add').disabled = true;
  out.className = 'result';
  out.textContent = `Opening ${spec}…`;
  try {
    const c = await api('POST', '/api/cameras', { spec });
    $('#camera-spec').value = ''; // only once it is in: a refused spec stays to be corrected
    out.className = 'result ok';
    out.textContent = `Added ${c.model || c.id}.`;
    await loadCameras();
    if (c.id && cameraById(c.id)) pickCamera(c.id);
  } catch (err) {
    out.className = 'result bad';
    out.textContent = `Not added: ${err.message}`;
  } finally {
    camUi.adding = false;
    $('#camera-add').disabled = false;
  }
}

async function removeCamera(c) {
  if (!confirm(`Stop serving ${cameraName(c)}? Its photos stay.`)) return;
  const out = $('#camera-add-result');
  try {
    await api('DELETE', `/api/cameras/${encodeURIComponent(c.id)}`);
    out.className = 'result ok';
    out.textContent = `Removed ${cameraName(c)}.`;
    await loadCameras();
  } catch (err) {
    out.className = 'result bad';
    out.textContent = `Not removed: ${err.message}`;
  }
}

// ---- what the selected camera can do --------------------------------------------------------

// Hides what the camera cannot do, when the server says (capabilities may
// be missing: then everything is offered, as before).
function showCapabilities(c) {
  const caps = (c && c.capabilities) || {};
  const remote = isRemote(c); // a node camera: live view, capture and settings
  const noFocus = remote || (!!caps.focus && caps.focus.kind === 'none');
  for (const sel of ['.drive', '#af', '#af-mode', '#stack']) $(sel).hidden = noFocus;
  $('#focus-none').hidden = !noFocus;
  $('#focus-none').textContent = focusNoneText(c);
  const noCard = remote || caps.card_files === false;
  $('#import-controls').hidden = noCard;
  $('#import-none').hidden = !noCard;
  $('#import-none').textContent = remote ? remoteNote(c) : 'This camera has no card to import from.';
  $('#interval-form').closest('fieldset').hidden = remote;
  document.body.classList.toggle('remote-camera', remote); // no focus area (the view aids work on any live view)
  $('#interval-none').hidden = !remote;
  $('#settings-camera').textContent = c && cams.list.length > 1 ? cameraName(c) : '';
}

// ---- drawing it all ---------------------------------------------------------------------------

function renderCameras() {
  const several = cams.multi && cams.list.length > 1;
  $('#cameras-open').hidden = !cams.multi;
  $('#camera-bar').hidden = !several;
  document.body.classList.toggle('several-cameras', several);
  $('#grid-toggle').setAttribute('aria-pressed', camUi.grid ? 'true' : 'false');
  $('#capture-all').disabled = !cams.list.some((c) => c.connected !== false);
  if (cams.multi && !cams.list.length) {
    $('#camera').textContent = 'no camera: add one';
    showLink(false);
  }
  renderTabs();
  renderGrid();
  renderManager();
  const c = selectedCamera();
  if (c) $('#camera').textContent = cameraName(c);
  showCapabilities(c);
}

// ---- start ------------------------------------------------------------------------------------

$('#camera-tabs').addEventListener('keydown', onTabsKey);
$('#grid-toggle').addEventListener('click', () => setGrid(!camUi.grid));
$('#capture-all').addEventListener('click', captureAll);
$('#cameras-open').addEventListener('click', () => { renderManager(); $('#camera-manager').showModal(); $('#camera-spec').focus(); });
$('#camera-manager-close').addEventListener('click', () => $('#camera-manager').close());
$('#add-camera').addEventListener('submit', addCamera);
document.addEventListener('keydown', (e) => {
  const t = document.activeElement;
  if (e.ctrlKey || e.metaKey || e.altKey || ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName) || $('#camera-manager').open) return;
  if (e.code === 'Space' && e.shiftKey && cams.list.length > 1) {
    e.preventDefault();
    captureAll();
  } else if (/^[1-9]$/.test(e.key) && !e.shiftKey) {
    const c = cams.list[Number(e.key) - 1];
    if (c) pickCamera(c.id);
  } else if ((e.key === 'g' || e.key === 'G') && !e.shiftKey && cams.list.length > 1) {
    setGrid(!camUi.grid);
  }
});
onCameraSelected((c) => showCapabilities(c));
if (state.events) {
  const on = (type, fn) => state.events.addEventListener(type, (m) => fn(JSON.parse(m.data).data));
  on('camera_lost', (d) => setCameraLink(d, false));
  on('camera_back', (d) => setCameraLink(d, true));
  on('camera_added', loadCamerasSoon);
  on('camera_removed', loadCamerasSoon);
  // a reconnected stream may have missed some: read the list again
  state.events.addEventListener('open', () => { if (camUi.started && cams.multi) loadCamerasSoon(); });
}
