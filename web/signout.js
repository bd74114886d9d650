// tether studio: the "Sign out" button of every page.  Shown only to a
// browser signed in with the access token (GET /api/status says
// signed_in); it ends the sign-in session on the server (POST /logout)
// and goes back to the sign-in page.
'use strict';

(function signOut() {
  const button = document.querySelector('#sign-out');
  if (!button) return;
  fetch('/api/status').then((r) => (r.ok ? r.json() : {})).then((s) => {
    button.hidden = !s.signed_in;
  }).catch(() => {});
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await fetch('/logout', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    } finally {
      location.href = '/login';
    }
  });
}());
