// tether studio: viewing one photo large, shared by the gallery's full
// view, its side-by-side compare (gallery.js) and the studio's review pane
// (review.js).  The loupe: the photo fitted to its stage, a click shows it
// at 100 % (one image pixel per screen pixel) centred on the point
// clicked, a second click fits it again; linked loupes (compare) zoom and
// pan together, at the same fraction of their pictures.  And what is said
// beside a photo: its EXIF in one line, a RAW badge, its files to download
// (a RAW + JPEG shot is one item, its RAW in "raw_file": docs/API.md).
'use strict';

// makeLoupe(stage, img): the loupe of img inside the scrolling box stage;
// returns { on, set(on, fx, fy), clickAt(x, y), links }.
function makeLoupe(stage, img) {
  const l = { on: false, links: [], expect: null };
  // 100 % around (fx, fy), fractions of the picture; off: fitted
  l.set = (on, fx = 0.5, fy = 0.5) => {
    stage.classList.toggle('loupe', on);
    l.on = on;
    if (!on) { img.style.width = ''; return; }
    const ratio = 1 / (window.devicePixelRatio || 1);
    img.style.width = `${img.naturalWidth * ratio}px`;
    stage.scrollLeft = fx * img.naturalWidth * ratio - stage.clientWidth / 2;
    stage.scrollTop = fy * img.naturalHeight * ratio - stage.clientHeight / 2;
    l.expect = [stage.scrollLeft, stage.scrollTop]; // our own scroll: not a pan to pass on
  };
  // a click (or a key, at a point of the window): 100 % there, or fitted again
  l.clickAt = (x, y) => {
    if (l.on) {
      for (const o of [l, ...l.links]) o.set(false);
      return;
    }
    const r = img.getBoundingClientRect();
    if (x < r.left || x > r.right || y < r.top || y > r.bottom) return;
    const fx = (x - r.left) / r.width, fy = (y - r.top) / r.height;
    for (const o of [l, ...l.links]) o.set(true, fx, fy);
  };
  stage.addEventListener('click', (e) => l.clickAt(e.clientX, e.clientY));
  // a pan (drag, wheel, keys) moves the linked loupes to the same place
  stage.addEventListener('scroll', () => {
    if (!l.on) return;
    if (l.expect && Math.abs(l.expect[0] - stage.scrollLeft) < 1 && Math.abs(l.expect[1] - stage.scrollTop) < 1) return;
    l.expect = null;
    const r = img.getBoundingClientRect(), s = stage.getBoundingClientRect();
    const fx = (s.left + s.width / 2 - r.left) / r.width, fy = (s.top + s.height / 2 - r.top) / r.height;
    for (const o of l.links) if (o.on) o.set(true, fx, fy);
  });
  return l;
}

// Two loupes that zoom and pan together.
function linkLoupes(a, b) {
  a.links.push(b);
  b.links.push(a);
}

// The EXIF of GET /api/photos/ID in one line: "Canon EOS 550D · 1/60 s · f/5.6 · ISO 100 · 50 mm · lens".
function exifLine(x) {
  if (!x) return '';
  return [x.model, x.exposure && `${x.exposure} s`, x.fnumber && `f/${x.fnumber}`, x.iso && `ISO ${x.iso}`,
    x.focal_mm && `${x.focal_mm} mm`, x.lens].filter(Boolean).join(' · ');
}

// "RAW + JPEG" for a shot with both, "RAW" for a RAW alone, else "".
function rawBadge(p) {
  return p.raw_file ? 'RAW + JPEG' : p.raw ? 'RAW' : '';
}

// Points the download links at the photo's files: main (an <a>) at the
// photo itself, raw (an <a>, hidden without one) at a RAW + JPEG shot's RAW.
function showDownloads(p, main, raw) {
  main.href = p.url;
  main.setAttribute('download', p.file);
  raw.hidden = !p.raw_file;
  if (p.raw_file) {
    raw.href = p.raw_file.url;
    raw.setAttribute('download', p.raw_file.file);
  }
}
