// tether studio: the gallery page (sessions, days, paging, full size,
// download, delete; ?photo=ID opens one full size).  A RAW shows the JPEG
// preview it embeds ("view") and downloads as the RAW itself.  With
// several cameras (GET /api/cameras), or photos from several in the page,
// each caption names the camera that took it.
'use strict';

const $ = (sel) => document.querySelector(sel);
const PER_PAGE = 24;
const view = { session: null, day: '', page: 1, photos: [], current: null, cameras: [] };

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
  const r = await api('GET', '/api/photos?' + q);
  view.photos = r.photos;
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
    img.addEventListener('click', () => open(p));
    const cap = document.createElement('figcaption');
    const name = document.createElement('span');
    name.textContent = p.file;
    name.title = p.file;
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
    fig.append(img, cap);
    return fig;
  }));
}

function open(p) {
  view.current = p;
  $('#full-img').src = p.view || p.url; // a RAW: the JPEG preview it embeds
  $('#download').href = p.url;
  $('#download').setAttribute('download', p.file);
  $('#full').hidden = false;
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
$('#prev').addEventListener('click', () => { view.page--; load(); });
$('#next').addEventListener('click', () => { view.page++; load(); });
$('#close').addEventListener('click', () => { $('#full').hidden = true; });
$('#delete').addEventListener('click', remove);
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') $('#full').hidden = true; });
// ?photo=ID (a photo clicked in the studio's strip): open it full size
async function openAsked() {
  const id = new URLSearchParams(location.search).get('photo');
  if (!id) return;
  const p = view.photos.find((x) => String(x.id) === id) || await api('GET', `/api/photos/${encodeURIComponent(id)}`);
  open(p);
}

Promise.all([loadSessions(), loadCameras()]).then(load).then(openAsked).catch((e) => toast(e.message));
