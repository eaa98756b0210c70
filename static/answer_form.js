// The form that answers a patient's request to talk their results over, shared by the physician's
// page and the staff console's Call-backs tab: mark it contacted, scheduled (with the time agreed)
// or closed, with an optional message the patient reads on their results page. Its texts go
// through t(): translated on the physician's page, English on the staff page (no catalogue).
import { api, clearMessages, el, localInputToIso, setBusy, showError, t } from './common.js';

// r: a request as the API lists it. path: where to POST the answer. saved(state): called once the
// answer is stored; failed(err): once it is not.
export function answerForm(r, { path, saved, failed }) {
  const n = r.id;
  const when = el('div', { class: 'field', hidden: r.state === 'scheduled' ? null : true },
    el('label', { for: `answer-when-${n}` }, t('Time of the discussion')),
    el('input', { id: `answer-when-${n}`, type: 'datetime-local' }));
  const choice = el('select', { id: `answer-state-${n}` },
    el('option', { value: 'contacted' }, t('Contacted: the office has been in touch')),
    el('option', { value: 'scheduled', selected: r.state === 'scheduled' ? true : null }, t('Scheduled: a time is agreed')),
    el('option', { value: 'closed' }, t('Closed: nothing more to do')));
  choice.addEventListener('change', () => {
    when.hidden = choice.value !== 'scheduled';
  });
  const form = el('form', { class: 'form answer', novalidate: true, 'aria-label': t('Answer {name}’s request', { name: r.patient.name }) },
    el('div', { class: 'field' }, el('label', { for: `answer-state-${n}` }, t('Mark the request')), choice),
    when,
    el('div', { class: 'field' },
      el('label', { for: `answer-reply-${n}` }, t('Message to the patient (optional)')),
      el('p', { class: 'hint', id: `answer-reply-hint-${n}` },
        t('The patient reads it on their results page. Their notification says only that the office answered.')),
      el('textarea', { id: `answer-reply-${n}`, rows: '2', maxlength: '2000', 'aria-describedby': `answer-reply-hint-${n}` })),
    el('button', { type: 'submit' }, t('Save')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages();
    const body = { state: choice.value };
    const reply = form.querySelector('textarea').value.trim();
    if (reply) {
      body.reply = reply;
    }
    if (choice.value === 'scheduled') {
      const input = when.querySelector('input');
      if (!input.value) {
        input.setAttribute('aria-invalid', 'true');
        showError(t('Please give the time of the discussion.'));
        input.focus();
        return;
      }
      input.removeAttribute('aria-invalid');
      body.scheduled_for = localInputToIso(input.value);
    }
    setBusy(form, true);
    try {
      await api('POST', path, body);
      await saved(choice.value);
    } catch (err) {
      setBusy(form, false);
      failed(err);
    }
  });
  return form;
}
