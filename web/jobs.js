// tether studio: the long-running jobs' panels, Time-lapse and Import
// (docs/API.md, "Time-lapse" and "Import").  Each panel shows the form
// when nothing runs and the progress when something does (taken / missed
// slots and the next one; files, bytes, rate and time left), with Stop or
// Cancel; the last result stays underneath.  Loaded after app.js, whose
// helpers ($, api, el, toast) and event stream (state.events) it uses; it
// follows the "interval", "interval_result", "import" and "import_result"
// server-sent events and reloads the state from the API on each.  Both act
// on the selected camera (app.js's camPath) and reload when another one is
// selected.
'use strict';

const jobs = { timer: null, next: null };

function fmtBytes(b) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (b >= 1000 && u < units.length - 1) { b /= 1000; u++; }
  return (u ? b.toFixed(1) : String(Math.round(b))) + ' ' + units[u];
}

function fmtSeconds(s) {
  if (s === null || s === undefined || s < 0) return '…';
  if (s < 90) return Math.round(s) + ' s';
  if (s < 5400) return Math.round(s / 60) + ' min';
  return (s / 3600).toFixed(1) + ' h';
}

// ---- time-lapse -------------------------------------------------------------------------

function showInterval(r) {
  const run = r.running;
  $('#interval-form').hidden = !!run;
  $('#interval-run').hidden = !run;
  if (run) {
    const c = run.counts || {};
    const total = run.count ? ` of ${run.count}` : '';
    $('#interval-status').textContent =
      `${c.taken || 0}${total} taken · ${c.missed || 0} missed · ${c.failed || 0} failed · every ${run.interval_s} s`;
    const bar = $('#interval-bar');
    bar.hidden = !run.count;
    if (run.count) bar.value = (c.next_slot || 0) / run.count;
    jobs.next = run.start_epoch + (c.next_slot || 0) * run.interval_s;
    $('#interval-stop').disabled = !!run.stopping;
  } else {
    jobs.next = null;
  }
  const l = r.last;
  $('#interval-last').textContent = l && !run
    ? `Last run: ${l.status}, ${l.taken} taken, ${l.missed} missed, ${l.failed} failed` +
      (l.taken ? `; shots began at most ${Math.round(l.max_late_ms)} ms after their time` : '')
    : '';
  tickInterval();
}

function tickInterval() {
  const n = $('#interval-next');
  if (!jobs.next) { n.textContent = ''; return; }
  const left = jobs.next - Date.now() / 1000;
  n.textContent = left > 0.5 ? `next shot in ${fmtSeconds(left)}` : 'shooting…';
}

async function loadInterval() {
  const id = cams.selected;
  try {
    const r = await api('GET', camPath('interval'));
    if (id === cams.selected) showInterval(r);
  } catch (e) { if (id === cams.selected && !lostCamera(e)) toast('Time-lapse: ' + e.message); }
}

async function startInterval(e) {
  e.preventDefault();
  const body = { interval_s: Number($('#interval-s').value), count: Number($('#interval-count').value || 0) };
  const at = $('#interval-start').value; // "HH:MM": today, or tomorrow when it has passed
  if (at) {
    const [h, m] = at.split(':').map(Number);
    const d = new Date();
    d.setHours(h, m, 0, 0);
    if (d.getTime() <= Date.now()) d.setDate(d.getDate() + 1);
    body.start_epoch = d.getTime() / 1000;
  }
  try {
    await api('POST', camPath('interval'), body);
    loadInterval();
  } catch (err) { toast(err.message); }
}

// ---- import -----------------------------------------------------------------------------

function showImport(r) {
  const job = r.running;
  $('#import-form').hidden = !!job;
  $('#import-run').hidden = !job;
  if (job) {
    const p = job.progress || {};
    const frac = p.bytes_total ? p.bytes_done / p.bytes_total : 0;
    $('#import-bar').value = frac;
    $('#import-status').textContent = job.waiting_for_camera
      ? 'Camera lost: waiting for it to come back…'
      : p.files_total === undefined ? 'Listing the card…'
        : `${p.files_done} of ${p.files_total} files · ${fmtBytes(p.bytes_done)} of ${fmtBytes(p.bytes_total)}` +
          (p.rate_bps ? ` · ${fmtBytes(p.rate_bps)}/s · ${fmtSeconds(p.eta_s)} left` : '') +
          (p.files_failed ? ` · ${p.files_failed} failed` : '');
    $('#import-cancel').disabled = !!job.cancelling;
  }
  const u = r.unfinished;
  const resume = $('#import-resume');
  resume.hidden = !u || !!job;
  if (u) resume.textContent = `Continue the ${u.cancelled ? 'cancelled' : 'interrupted'} import (${u.files_done} of ${u.files_total} files)`;
  const l = r.last;
  $('#import-last').textContent = l && !job
    ? `Last import: ${l.status}, ${l.downloaded} downloaded` + (l.already ? `, ${l.already} already there` : '') +
      (l.failed ? `, ${l.failed} failed` : '') + (l.deleted ? `, ${l.deleted} deleted from the card` : '') +
      (l.downloaded ? ` (${fmtBytes(l.bytes_downloaded)} at ${fmtBytes(l.rate_bps)}/s)` : '') +
      (l.message ? ` — ${l.message}` : '')
    : '';
}

async function loadImport() {
  const id = cams.selected;
  try {
    const r = await api('GET', camPath('import'));
    if (id === cams.selected) showImport(r);
  } catch (e) { if (id === cams.selected && !lostCamera(e)) toast('Import: ' + e.message); }
}

async function startImport(body) {
  try {
    await api('POST', camPath('import'), body);
    loadImport();
  } catch (err) { toast(err.message); }
}

function loadJobsSoon() {
  clearTimeout(jobs.timer);
  jobs.timer = setTimeout(() => { loadInterval(); loadImport(); }, 150);
}

// ---- start ------------------------------------------------------------------------------

$('#interval-form').addEventListener('submit', startInterval);
$('#interval-stop').addEventListener('click', () => api('POST', camPath('interval/stop')).then(loadInterval).catch((e) => toast(e.message)));
$('#import-form').addEventListener('submit', (e) => {
  e.preventDefault();
  startImport({ mode: $('#import-mode').value, delete: $('#import-delete').checked, fresh: true });
});
$('#import-resume').addEventListener('click', () => startImport({}));
$('#import-cancel').addEventListener('click', () => api('POST', camPath('import/cancel')).then(loadImport).catch((e) => toast(e.message)));
if (state.events) {
  for (const type of ['interval', 'interval_result', 'import', 'import_result', 'camera_lost', 'camera_back'])
    state.events.addEventListener(type, loadJobsSoon);
}
setInterval(tickInterval, 1000);
onCameraSelected((c) => { if (!isRemote(c)) { loadInterval(); loadImport(); } });
