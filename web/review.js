// tether studio: the review pane of the main page.  Right after a capture
// (a click, Space, capture-all or the camera's own button) the newest shot
// of the session is shown large by itself, over the page, with its own
// histogram and EXIF (app.js's showPhotoAnalysis), a 100 % loupe at the
// point clicked (photoview.js), ←/→ through the session (newest first),
// full screen (F) and its files to download (a RAW + JPEG shot is one
// item).  Esc or "Live view" closes it; Space still fires the shutter and
// the new shot takes its place.  "Review" beside Capture turns the pane
// off after shots (remembered by the browser) and opens it on demand.
// Loaded after app.js and photoview.js, whose helpers it uses.
'use strict';

const review = { at: 0, total: 0, photo: null, seq: 0, loupe: makeLoupe($('#review-stage'), $('#review-img')) };

const reviewOpen = () => !$('#review').hidden;
const reviewAfterShots = () => localStorage.getItem('tether.review') !== 'off';

// Shows the session's shot at (0: the newest), with its analysis.
async function showReview(at) {
  const seq = ++review.seq;
  let r;
  try {
    r = await api('GET', `/api/photos?per_page=1&page=${at + 1}`);
  } catch (e) {
    toast('Review: ' + e.message);
    return;
  }
  if (seq !== review.seq) return; // a newer step or shot won
  const p = r.photos[0];
  if (!p) { // an empty session, or the last shot was deleted
    if (at > 0 && r.total > 0) showReview(r.total - 1);
    else closeReview();
    return;
  }
  Object.assign(review, { at, total: r.total, photo: p });
  review.loupe.set(false);
  $('#review-img').src = p.view || p.url; // a RAW: the JPEG preview it embeds
  $('#review-name').textContent = p.file;
  $('#review-raw').textContent = rawBadge(p);
  $('#review-pos').textContent = `${at + 1} of ${r.total}`;
  $('#review-prev').disabled = at <= 0;
  $('#review-next').disabled = at + 1 >= r.total;
  showDownloads(p, $('#review-download'), $('#review-download-raw'));
  $('#review-exif').replaceChildren();
  $('#review-clip').textContent = '';
  clearHistogram($('#review-histogram'));
  $('#review').hidden = false;
  try {
    await showPhotoAnalysis(p, $('#review-histogram'), $('#review-clip'), $('#review-exif'));
  } catch (e) {
    if (seq === review.seq) $('#review-clip').textContent = 'no histogram: ' + e.message;
  }
}

function closeReview() {
  review.seq++;
  if (document.fullscreenElement === $('#review')) document.exitFullscreen().catch(() => {});
  $('#review').hidden = true;
}

// by: +1 the next older shot, -1 the newer one
function stepReview(by) {
  const at = review.at + by;
  if (at >= 0 && at < review.total) showReview(at);
}

function toggleReviewFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else $('#review').requestFullscreen().catch((e) => toast('Full screen: ' + e.message));
}

function setReviewAfterShots(on) {
  localStorage.setItem('tether.review', on ? 'on' : 'off');
  $('#review-auto').checked = on;
}

$('#review-auto').checked = reviewAfterShots();
$('#review-auto').addEventListener('change', (e) => setReviewAfterShots(e.target.checked));
$('#review-open').addEventListener('click', () => showReview(0));
$('#review-close').addEventListener('click', closeReview);
$('#review-prev').addEventListener('click', () => stepReview(-1));
$('#review-next').addEventListener('click', () => stepReview(1));
$('#review-fullscreen').addEventListener('click', toggleReviewFullscreen);
// The pane's keys come before the page's (F would make the live view full
// screen); Space is left to the page: it fires the shutter.
window.addEventListener('keydown', (e) => {
  if (!reviewOpen() || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === 'Escape' && !document.fullscreenElement) closeReview();
  else if (e.key === 'ArrowLeft') stepReview(-1);
  else if (e.key === 'ArrowRight') stepReview(1);
  else if (e.key === 'f' || e.key === 'F') toggleReviewFullscreen();
  else if (e.key === 'z' || e.key === 'Z') {
    const r = $('#review-img').getBoundingClientRect();
    review.loupe.clickAt(r.left + r.width / 2, r.top + r.height / 2);
  } else return;
  e.preventDefault();
  e.stopImmediatePropagation();
}, true);
// A new shot: shown at once when reviewing after shots (or already
// reviewing); a deleted one leaves the pane on a shot that is there.
state.events.addEventListener('capture', () => { if (reviewOpen() || reviewAfterShots()) showReview(0); });
state.events.addEventListener('photo_deleted', () => { if (reviewOpen()) showReview(Math.max(0, Math.min(review.at, review.total - 2))); });
state.events.addEventListener('session_changed', () => { if (reviewOpen()) showReview(0); });
