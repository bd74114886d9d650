// tether studio: the Tagging panel (GPS position, artist, copyright,
// keywords written into captures; docs/API.md, "Tagging").  Loaded after
// app.js, whose helpers ($, api, el, toast, state) it uses.  Settings are
// read with GET /api/tagging, saved with PUT, followed through the
// "tagging" and "tagging_apply" server-sent events.
//
// What is typed is never overwritten: once a field is edited, settings
// from the server (the load, the "tagging" event, the answer to a PUT
// sent before the last edit) change only the "tag new captures" box until
// the form is saved.  The box and Save both send the whole form as it is
// on screen (ticking the box after typing the tags turns tagging on with
// those tags); a form that cannot be sent (half a position) leaves the
// box as it was and says why.
'use strict';

// edits: fields changed by hand (or by the location buttons) so far;
// shownEdits: that count when the fields last matched the saved settings.
const tagging = { applying: false, edits: 0, shownEdits: 0 };

function tagDirty() {
  return tagging.edits !== tagging.shownEdits;
}

function tagEdited() {
  tagging.edits++;
}

function tagResult(id, text, kind) {
  const p = $(id);
  p.textContent = text || '';
  p.className = 'result' + (kind ? ' ' + kind : '');
}

// Shows settings from the server: the box always, the fields only if
// nothing typed since they last matched the saved settings would be
// lost.  sentAt (the answer to our own PUT): the edit count when the form
// was sent; the fields are shown (as the server normalised them) only if
// nothing was typed since.
function showTagging(t, sentAt) {
  $('#tag-enabled').checked = !!t.enabled;
  if (sentAt !== undefined ? sentAt !== tagging.edits : tagDirty()) return;
  tagging.shownEdits = tagging.edits;
  $('#tag-lat').value = t.gps ? t.gps.lat : '';
  $('#tag-lon').value = t.gps ? t.gps.lon : '';
  $('#tag-alt').value = t.gps && t.gps.alt !== undefined && t.gps.alt !== null ? t.gps.alt : '';
  $('#tag-artist').value = t.artist || '';
  $('#tag-copyright').value = t.copyright || '';
  $('#tag-keywords').value = (t.keywords || []).join(', ');
}

function showApply(a) {
  tagging.applying = a.running;
  $('#tag-apply').disabled = a.running;
  const counts = `${a.tagged} tagged, ${a.failed} failed, ${a.skipped} skipped`;
  if (a.running) tagResult('#tag-result', `Tagging the photos of "${a.session}"… ${counts} of ${a.total}`);
  else tagResult('#tag-result', `Session "${a.session}": ${counts} of ${a.total}` +
    (a.errors && a.errors.length ? ` (${a.errors[0].message})` : ''), a.failed ? 'bad' : 'ok');
}

// The settings, and the last "Apply" at the start (then "tagging_apply"
// follows it, so a save's "Saved" line is not replaced by an old count).
async function loadTagging() {
  const t = await api('GET', '/api/tagging');
  showTagging(t);
  if (t.apply) showApply(t.apply);
}

// The form as a PUT body; throws with a message when the position is half there.
function tagBody() {
  const lat = $('#tag-lat').value.trim(), lon = $('#tag-lon').value.trim(), alt = $('#tag-alt').value.trim();
  let gps = null;
  if (lat !== '' || lon !== '') {
    if (lat === '' || lon === '') throw new Error('give both a latitude and a longitude, or neither');
    gps = { lat: Number(lat), lon: Number(lon) };
    if (alt !== '') gps.alt = Number(alt);
  }
  const keywords = $('#tag-keywords').value.split(',').map((k) => k.trim()).filter((k) => k);
  return { gps, artist: $('#tag-artist').value.trim(), copyright: $('#tag-copyright').value.trim(), keywords };
}

// Sends the whole form as it is on screen, the box included.  Returns
// whether it was saved (the result line says what happened).
async function sendTagging() {
  const sentAt = tagging.edits;
  try {
    const body = Object.assign(tagBody(), { enabled: $('#tag-enabled').checked });
    showTagging(await api('PUT', '/api/tagging', body), sentAt);
    tagResult('#tag-result', body.enabled ? 'Saved: new captures are tagged' : 'Saved (tagging of new captures is off)', 'ok');
    return true;
  } catch (e) {
    tagResult('#tag-result', 'Tagging: ' + e.message, 'bad');
    return false;
  }
}

async function saveTagging(ev) {
  ev.preventDefault();
  await sendTagging();
}

async function toggleTagging(e) {
  if (!(await sendTagging())) e.target.checked = !e.target.checked;
}

async function applyTagging() {
  const session = $('#session').value;
  try {
    showApply((await api('POST', '/api/tagging/apply', session ? { session } : {})).apply);
  } catch (e) {
    tagResult('#tag-result', 'Apply: ' + e.message, 'bad');
  }
}

// The browser's position (navigator.geolocation): only in a secure
// context, that is https:// or http://localhost, never plain http on the LAN.
function locate() {
  if (!window.isSecureContext || !navigator.geolocation) {
    tagResult('#tag-geo', 'This browser gives its location only to pages opened over https:// or on this ' +
      'machine (http://localhost). Type the position in, or open the studio that way.', 'bad');
    return;
  }
  const b = $('#tag-locate');
  b.disabled = true;
  tagResult('#tag-geo', 'Asking this device where it is…');
  navigator.geolocation.getCurrentPosition((p) => {
    b.disabled = false;
    const c = p.coords;
    $('#tag-lat').value = c.latitude.toFixed(7);
    $('#tag-lon').value = c.longitude.toFixed(7);
    $('#tag-alt').value = c.altitude === null || c.altitude === undefined ? '' : c.altitude.toFixed(1);
    tagEdited();
    tagResult('#tag-geo', `Found (±${Math.round(c.accuracy)} m). Press Save to use it.`, 'ok');
  }, (err) => {
    b.disabled = false;
    const why = { 1: 'permission was refused', 2: 'the position is unavailable', 3: 'it took too long' }[err.code] || err.message;
    tagResult('#tag-geo', `No location: ${why}. Type the position in instead.`, 'bad');
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

function clearGps() {
  $('#tag-lat').value = '';
  $('#tag-lon').value = '';
  $('#tag-alt').value = '';
  tagEdited();
  tagResult('#tag-geo', 'Press Save to write no position.');
}

(function initTagging() {
  $('#tag-form').addEventListener('submit', saveTagging);
  $('#tag-form').addEventListener('input', tagEdited);
  $('#tag-enabled').addEventListener('change', toggleTagging);
  $('#tag-locate').addEventListener('click', locate);
  $('#tag-clear-gps').addEventListener('click', clearGps);
  $('#tag-apply').addEventListener('click', applyTagging);
  const es = state.events || new EventSource('/api/events');
  const on = (type, fn) => es.addEventListener(type, (m) => fn(JSON.parse(m.data).data));
  on('tagging', (t) => showTagging(t)); // another browser's save, or ours: typed fields stay
  on('tagging_apply', showApply);
  loadTagging().catch((e) => toast('Tagging: ' + e.message));
})();
