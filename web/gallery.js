// tether studio: the gallery page (sessions, days, paging, full size,
// download, delete; ?photo=ID opens one full size; culling: 1-5 stars, 0
// none, 6-9 a colour label, P pick, X reject, U unflag, and a filter).  A
// RAW shows the JPEG preview it embeds ("view") and downloads as the RAW
// itself; a RAW + JPEG shot is one tile (the JPEG, a RAW badge, both
// files to download).  Compare: two photos side by side (C on a tile, or
// Compare and two clicks), zooming and panning together (photoview.js).
// With several cameras (GET /api/cameras), or photos from several in the
// page, each caption names the camera that took it.
'use strict';

const $ = (sel) => document.querySelector(sel);
const PER_PAGE = 24;
const view = { session: null, day: '', page: 1, photos: [], total: 0, current: null, cameras: [], picked: [], picking: false };
const fullLoupe = makeLoupe($('#full-stage'), $('#full-img'));

// The studio's cameras, for their names; none from a server without
// /api/cameras (the photos' own "camera" is then shown, if it varies).
async function loadCameras() {
  try {
    const r = await fetch('/api/cameras');
    if (r.ok) view.cameras = (await r.json()).cameras || [];
  } catch (e) { /* names are a nicety: the photos show without them */ }
}

function photoCamera(p) {
  const c = view.cameras.find((x) => x.id === p.camera);
  if (!c) return p.camera_identity || p.camera || '';
  const twins = view.cameras.filter((x) => x.model === c.model).length > 1;
  return twins ? (c.identity || c.id) : (c.model || c.id);
}

function toast(text) {
  const t = $('#toast');
  t.textContent = text;
  t.hidden = false;
  setTimeout(() => { t.hidden = true; }, 5000);
}

async function api(method, path) {
  const r = await fetch(path, { method });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error ? data.error.message : r.statusText);
  return data;
}

async function loadSessions() {
  const r = await api('GET', '/api/sessions');
  const sel = $('#session');
  sel.replaceChildren(...r.sessions.map((s) => new Option(`${s.name} (${s.photos})`, s.name)));
  view.session = view.session || new URLSearchParams(location.search).get('session') || r.active;
  sel.value = view.session;
}

async function load() {
  const q = new URLSearchParams({ session: view.session, page: view.page, per_page: PER_PAGE });
  if (view.day) q.set('day', view.day);
  const filter = $('#cull-filter').value; // "min_rating=3", "pick=1", "label=Red" or ""
  if (filter) { const [k, v] = filter.split('='); q.set(k, v); }
  const r = await api('GET', '/api/photos?' + q);
  view.photos = r.photos;
  view.total = r.total;
  const days = $('#day');
  const keep = view.day;
  days.replaceChildren(new Option('all days', ''), ...r.days.map((d) => new Option(d, d)));
  days.value = keep;
  $('#count').textContent = `${r.total} photo${r.total === 1 ? '' : 's'}`;
  const pages = Math.max(1, Math.ceil(r.total / PER_PAGE));
  $('#page').textContent = `page ${view.page} of ${pages}`;
  $('#prev').disabled = view.page <= 1;
  $('#next').disabled = view.page >= pages;
  const named = view.cameras.length > 1 || new Set(r.photos.map(photoCamera)).size > 1;
  $('#grid').replaceChildren(...r.photos.map((p) => {
    const fig = document.createElement('figure');
    fig.dataset.id = p.id;
    const img = document.createElement('img');
    img.src = p.thumb || p.view || p.url;
    img.alt = p.file;
    img.loading = 'lazy';
    img.addEventListener('click', () => (view.picking ? pick(p) : open(p)));
    const cap = document.createElement('figcaption');
    // the name's end (the frame number and type) always shows; its start
    // gives way first: "20261206-1015…capt0042.jpg"
    const name = document.createElement('span');
    name.className = 'name';
    name.title = p.file;
    const cut = Math.max(0, p.file.length - 12);
    const head = document.createElement('span');
    head.className = 'head';
    head.textContent = p.file.slice(0, cut);
    const tail = document.createElement('span');
    tail.className = 'tail';
    tail.textContent = p.file.slice(cut);
    name.append(head, tail);
    const when = document.createElement('span');
    when.textContent = new Date(p.taken * 1000).toLocaleTimeString();
    cap.append(name, when);
    if (named && photoCamera(p)) {
      const who = document.createElement('span');
      who.className = 'photo-camera';
      who.textContent = who.title = photoCamera(p);
      cap.append(who);
      cap.classList.add('named');
      fig.dataset.camera = p.camera || '';
    }
    const cull = document.createElement('span');
    cull.className = 'cull';
    showCull(cull, p);
    cap.append(cull);
    if (rawBadge(p)) {
      const badge = document.createElement('span');
      badge.className = 'raw-badge';
      badge.textContent = rawBadge(p);
      cap.append(badge);
    }
    fig.classList.toggle('picked', view.picked.some((x) => x.id === p.id));
    img.addEventListener('mouseenter', () => { view.hovered = p; });
    fig.append(img, cap);
    return fig;
  }));
}

// The full view of photo p: fitted to the window, its name, where it is
// in the session and its EXIF; a click shows 100 % at that point.
function open(p) {
  view.current = p;
  fullLoupe.set(false);
  $('#full-img').src = p.view || p.url; // a RAW: the JPEG preview it embeds
  showDownloads(p, $('#download'), $('#download-raw'));
  $('#full-name').textContent = p.file;
  $('#full-raw').textContent = rawBadge(p);
  showCull($('#full-cull'), p);
  const i = view.photos.findIndex((x) => x.id === p.id);
  const at = i >= 0 ? (view.page - 1) * PER_PAGE + i + 1 : 0;
  $('#full-pos').textContent = at ? `${at} of ${view.total}` : '';
  $('#full-prev').disabled = at <= 1;
  $('#full-next').disabled = !at || at >= view.total;
  $('#full-exif').textContent = '';
  $('#full').hidden = false;
  api('GET', `/api/photos/${p.id}`).then((info) => {
    if (view.current === p) $('#full-exif').textContent = exifLine(info.exif);
  }).catch(() => {});
}

// ---- culling: stars, a colour label, pick or reject (PUT /api/photos/ID:
// the catalog and the file's XMP, which Lightroom and darktable read) ----

const LABELS = { 6: 'Red', 7: 'Yellow', 8: 'Green', 9: 'Blue' };

function showCull(elt, p) {
  const stars = p.rating > 0 ? '★'.repeat(p.rating) : '';
  elt.textContent = p.pick === -1 ? '✕ rejected' : `${p.pick === 1 ? '⚑ ' : ''}${stars}`;
  elt.dataset.label = p.label || '';
  elt.title = [p.pick === 1 ? 'picked' : '', p.rating > 0 ? `${p.rating} stars` : '', p.label || ''].filter(Boolean).join(', ');
  elt.hidden = !p.rating && !p.label && !p.pick;
}

// One photo's culling requests go one after the other, so the server
// sees them in the order of the keys and the last answer holds them all.
function cull(p, change) {
  p.cullChain = (p.cullChain || Promise.resolve()).then(() => cullNow(p, change));
  return p.cullChain;
}

async function cullNow(p, change) {
  try {
    const now = await fetch(`/api/photos/${p.id}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(change) }).then(async (r) => {
      const data = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(data.error ? data.error.message : r.statusText);
      return data;
    });
    Object.assign(p, { rating: now.rating, label: now.label, pick: now.pick, size: now.size });
    const fig = document.querySelector(`#grid figure[data-id="${p.id}"] .cull`);
    if (fig) showCull(fig, p);
    if (view.current && view.current.id === p.id) showCull($('#full-cull'), p);
  } catch (e) {
    toast('Culling: ' + e.message);
  }
}

// A culling key: on the photo shown full size, else on the tile under the pointer.
function cullKey(e) {
  const p = !$('#full').hidden ? view.current : view.hovered;
  if (!p || e.ctrlKey || e.metaKey || e.altKey || ['INPUT', 'SELECT'].includes(document.activeElement.tagName)) return false;
  if (e.key >= '0' && e.key <= '5') cull(p, { rating: Number(e.key) });
  else if (LABELS[e.key]) cull(p, { label: p.label === LABELS[e.key] ? '' : LABELS[e.key] });
  else if (e.key === 'p' || e.key === 'P') cull(p, { pick: 1 });
  else if (e.key === 'x' || e.key === 'X') cull(p, { pick: -1 });
  else if (e.key === 'u' || e.key === 'U') cull(p, { pick: 0 });
  else return false;
  return true;
}

// step: +1 the next older photo, -1 the newer one, across pages
async function step(by) {
  const p = view.current;
  if (!p || $('#full').hidden) return;
  const i = view.photos.findIndex((x) => x.id === p.id);
  if (i < 0) return;
  let next = view.photos[i + by];
  const pages = Math.max(1, Math.ceil(view.total / PER_PAGE));
  if (!next && by > 0 && view.page < pages) {
    view.page++;
    await load();
    next = view.photos[0];
  } else if (!next && by < 0 && view.page > 1) {
    view.page--;
    await load();
    next = view.photos[view.photos.length - 1];
  }
  if (next) open(next);
}

// ---- compare: two photos side by side, one loupe for both ----

const sides = ['a', 'b'].map((k) => ({ k, loupe: makeLoupe($(`#cmp-stage-${k}`), $(`#cmp-img-${k}`)) }));
linkLoupes(sides[0].loupe, sides[1].loupe);

// Picking: Compare, then two tiles (or C over two tiles); the second opens them.
function setPicking(on) {
  view.picking = on;
  if (!on) view.picked = [];
  $('#compare-pick').setAttribute('aria-pressed', String(on));
  $('#compare-hint').hidden = !on;
  document.querySelectorAll('#grid figure.picked').forEach((f) => f.classList.remove('picked'));
}

function pick(p) {
  if (!view.picking) setPicking(true);
  const at = view.picked.findIndex((x) => x.id === p.id);
  if (at >= 0) view.picked.splice(at, 1);
  else view.picked.push(p);
  const fig = document.querySelector(`#grid figure[data-id="${p.id}"]`);
  if (fig) fig.classList.toggle('picked', at < 0);
  if (view.picked.length === 2) compare(view.picked[0], view.picked[1]);
}

function compare(a, b) {
  for (const [side, p] of [[sides[0], a], [sides[1], b]]) {
    side.loupe.set(false);
    $(`#cmp-img-${side.k}`).src = p.view || p.url;
    $(`#cmp-name-${side.k}`).textContent = p.file;
    $(`#cmp-raw-${side.k}`).textContent = rawBadge(p);
    const exif = $(`#cmp-exif-${side.k}`);
    exif.textContent = '';
    api('GET', `/api/photos/${p.id}`).then((info) => { exif.textContent = exifLine(info.exif); }).catch(() => {});
  }
  $('#compare').hidden = false;
}

function closeCompare() {
  $('#compare').hidden = true;
  setPicking(false);
}

async function remove() {
  const p = view.current;
  if (!p || !confirm(`Delete ${p.file}?`)) return;
  try {
    await api('DELETE', `/api/photos/${p.id}`);
    $('#full').hidden = true;
    load();
  } catch (e) {
    toast(e.message);
  }
}

$('#session').addEventListener('change', (e) => { view.session = e.target.value; view.day = ''; view.page = 1; load(); });
$('#day').addEventListener('change', (e) => { view.day = e.target.value; view.page = 1; load(); });
$('#cull-filter').addEventListener('change', () => { view.page = 1; load(); });
$('#prev').addEventListener('click', () => { view.page--; load(); });
$('#next').addEventListener('click', () => { view.page++; load(); });
$('#close').addEventListener('click', () => { $('#full').hidden = true; });
$('#delete').addEventListener('click', remove);
$('#full-prev').addEventListener('click', () => step(-1));
$('#full-next').addEventListener('click', () => step(1));
$('#compare-pick').addEventListener('click', () => setPicking(!view.picking));
$('#compare-close').addEventListener('click', closeCompare);
// Z: 100 % at the middle of the (first) picture shown, or fitted again
const zoomMiddle = (img, loupe) => {
  const r = img.getBoundingClientRect();
  loupe.clickAt(r.left + r.width / 2, r.top + r.height / 2);
};
document.addEventListener('keydown', (e) => {
  if (!$('#compare').hidden) {
    if (e.key === 'Escape') closeCompare();
    else if (e.key === 'z' || e.key === 'Z') zoomMiddle($('#cmp-img-a'), sides[0].loupe);
    else return;
    e.preventDefault();
    return;
  }
  if (cullKey(e)) { e.preventDefault(); return; }
  if ($('#full').hidden) {
    const typing = ['INPUT', 'SELECT'].includes(document.activeElement.tagName);
    if ((e.key === 'c' || e.key === 'C') && view.hovered && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      pick(view.hovered);
      e.preventDefault();
    } else if (e.key === 'Escape' && view.picking) setPicking(false);
    return;
  }
  if (e.key === 'Escape') $('#full').hidden = true;
  else if (e.key === 'ArrowRight') step(1);
  else if (e.key === 'ArrowLeft') step(-1);
  else if (e.key === 'z' || e.key === 'Z') zoomMiddle($('#full-img'), fullLoupe);
  else return;
  e.preventDefault();
});

// New shots and deletions show up by themselves on the first page of the
// session shown (a full view stays where it is).
let reloadTimer = null;
const events = new EventSource('/api/events');
const reloadSoon = (d) => {
  if (d && d.photos && d.photos[0] && d.photos[0].session !== view.session) return;
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => { if (view.page === 1) load().catch(() => {}); loadSessions().catch(() => {}); }, 200);
};
events.addEventListener('capture', (m) => reloadSoon(JSON.parse(m.data).data));
events.addEventListener('photo_deleted', () => reloadSoon(null));
// ?photo=ID (a photo clicked in the studio's strip): open it full size
async function openAsked() {
  const id = new URLSearchParams(location.search).get('photo');
  if (!id) return;
  const p = view.photos.find((x) => String(x.id) === id) || await api('GET', `/api/photos/${encodeURIComponent(id)}`);
  open(p);
}

Promise.all([loadSessions(), loadCameras()]).then(load).then(openAsked).catch((e) => toast(e.message));
