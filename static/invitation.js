// A physician sets their own password with an administrator's invitation. The code may come in
// the link's fragment (#code=...), which the browser never sends to a server; it is moved into the
// form and removed from the address bar at once. English only for now (docs/staff.md).
import { api, ApiError, showError, clearMessages, focusHeading, setBusy, showFailure } from './common.js';

const codeField = document.getElementById('invite-code');
const fromLink = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('code');
if (fromLink) {
  codeField.value = fromLink;
  window.history.replaceState(null, '', window.location.pathname);
}

document.getElementById('invite-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearMessages();
  const form = ev.currentTarget;
  const pw = document.getElementById('invite-password');
  if (!codeField.value.trim()) {
    showError('Please enter your invitation code.');
    codeField.focus();
    return;
  }
  if (pw.value.length < 12) {
    showError('Please choose a password of at least 12 characters.');
    pw.focus();
    return;
  }
  setBusy(form, true);
  try {
    const done = await api('POST', '/api/v1/physician/invitation',
      { invitation_code: codeField.value.trim(), password: pw.value });
    form.reset();
    document.getElementById('done-id').textContent = done.physician_id;
    document.getElementById('invite-view').hidden = true;
    document.getElementById('done-view').hidden = false;
    focusHeading(document.getElementById('done-title'));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 410)) {
      showError('This invitation code is not valid, has been used or has expired. Ask your administrator for a new one.');
    } else {
      showFailure(err);
    }
  } finally {
    setBusy(form, false);
  }
});
