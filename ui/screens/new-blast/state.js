// New blast's state, in two parts: `draft`, what the person wrote and chose
// (kept in the database as it is written, so closing the window loses
// nothing), and `view`, what the screen derived from it (the recipients'
// preview, the rendered message, the plan, busy and errors by action), which
// is never saved and is read again when the screen is shown.

import { api, ApiError } from "../../api.js";

/** What the person wrote and chose: the saved part. */
export const draft = {
  audiences: new Set(),
  files: [], // [{id, name, mapping}]: lists dropped or chosen in this run
  attachment: null, // {id, name, kind, bytes}: chosen in this run
  name: "",
  template: "",
  missing: "drop", // "drop" | "fallback" | "skip"
  fallback: "",
  checkNumbers: false,
  accountId: null, // null: the rehearsal account
  accountChosen: false, // the sender was picked (or restored), not defaulted
  when: "now", // "now" | "schedule"
  schedule: null, // {repeat, date, time, days, day}: set once shown
};

/** What the screen derived; never saved. */
export const view = {
  run: null, // this run of Blastdesk (app info): files are known by id within it
  restored: false, // the saved draft was read back
  preview: null, // the import preview of the chosen audiences and files
  mapping: null, // {fileId, file, columns}: the phone column to ask for
  dropped: [], // names of files a restart made unknown, to add again
  thumbnail: null, // {id, url}: the attachment's picture, this run only
  index: 0,
  rendered: null, // {index, phone, text, skipped} or an ApiError
  plan: null,
  busy: false,
  editingPacing: false,
  errors: {}, // by where they are shown: recipients, attachment, plan, send
  accounts: [], // the accounts, as listed when the screen was shown
};

/** Set by the screen: redraws it, or only the preview. */
export const hooks = { update: () => {}, updatePreview: () => {} };

function saved() {
  return {
    // Files and the attachment are known by id only while Blastdesk runs:
    // kept for a closed and reopened window, not across a restart.
    run: view.run,
    files: draft.files,
    attachment: draft.attachment,
    audiences: [...draft.audiences],
    name: draft.name,
    template: draft.template,
    missing: draft.missing,
    fallback: draft.fallback,
    checkNumbers: draft.checkNumbers,
    accountId: draft.accountId,
    when: draft.when,
    schedule: draft.schedule,
  };
}

let saving = null;
/** Saves the draft a moment after the last change. */
export function keep() {
  clearTimeout(saving);
  saving = setTimeout(() => {
    const empty = !draft.audiences.size && !draft.files.length && !draft.attachment && !draft.template.trim() && !draft.name.trim();
    api.saveDraft(empty ? null : JSON.stringify(saved())).catch(() => {});
  }, 400);
}

const MISSING = new Set(["drop", "fallback", "skip"]);

/** Reads a saved draft back (once per run of the window). */
export function restore(text) {
  view.restored = true;
  if (!text) return;
  try {
    const s = JSON.parse(text);
    const chosen = [...(s.files ?? []), ...(s.attachment ? [s.attachment] : [])];
    if (s.run === view.run) {
      draft.files = Array.isArray(s.files) ? s.files : [];
      draft.attachment = s.attachment ?? null;
    } else if (chosen.length) {
      view.dropped = chosen.map((f) => f.name);
    }
    draft.audiences = new Set(s.audiences ?? []);
    draft.name = s.name ?? "";
    draft.template = s.template ?? "";
    draft.fallback = s.fallback ?? "";
    // An older draft's "write nothing instead" is what leaving it out means now.
    draft.missing = MISSING.has(s.missing) ? s.missing : "drop";
    if (draft.missing === "fallback" && !draft.fallback) draft.missing = "drop";
    draft.checkNumbers = Boolean(s.checkNumbers);
    draft.accountId = Number.isInteger(s.accountId) ? s.accountId : null;
    draft.when = s.when === "schedule" ? "schedule" : "now";
    draft.schedule = s.schedule && typeof s.schedule === "object" ? s.schedule : null;
    // A saved draft keeps the sender it had, rehearsal included.
    draft.accountChosen = true;
  } catch {
    // A draft that cannot be read is dropped, not shown half.
  }
}

/** Forgets the draft once it was sent or scheduled. */
export function clearDraft() {
  Object.assign(draft, { audiences: new Set(), files: [], attachment: null, name: "", template: "", when: "now", schedule: null });
  Object.assign(view, { dropped: [], rendered: null, preview: null, plan: null, thumbnail: null, index: 0, errors: {} });
  clearTimeout(saving);
  api.saveDraft(null).catch(() => {});
}

/** The welcome's rehearsal: the sample audience and message, from the rehearsal account. */
export function prepareRehearsal(rehearsal, name) {
  view.restored = true;
  Object.assign(draft, {
    audiences: new Set([rehearsal.audience]),
    template: rehearsal.template,
    name,
    accountId: null,
    accountChosen: true,
    attachment: null,
    files: [],
    when: "now",
  });
  Object.assign(view, { preview: null, dropped: [], thumbnail: null, index: 0, errors: {} });
  keep();
}

/** The missing-value policy as the core takes it. */
export function missingValue() {
  if (draft.missing === "skip") return { policy: "skip" };
  if (draft.missing === "fallback") return { policy: "fallback", text: draft.fallback };
  return { policy: "drop" };
}

export function hasRecipients() {
  return draft.audiences.size > 0 || draft.files.length > 0;
}

/** How many the blast would reach. */
export function recipientCount() {
  return view.preview?.counts?.recipients ?? 0;
}

/** Lists dropped on the window (or chosen) while on this screen. */
export async function addFiles(granted) {
  view.dropped = view.dropped.filter((name) => !granted.some((f) => f.name === name));
  for (const file of granted) {
    if (!draft.files.some((f) => f.id === file.id)) draft.files.push({ id: file.id, name: file.name, mapping: null });
  }
  keep();
  await loadRecipients();
}

// Which reading of the recipients (and rendering of the message) is the
// latest: an answer to an older one, arriving late, is dropped.
let recipientsAsked = 0;
let messageAsked = 0;

/** Reads the chosen recipients, then the plan and the message for them. */
export async function loadRecipients() {
  const asked = ++recipientsAsked;
  Object.assign(view, { preview: null, plan: null, rendered: null, mapping: null });
  view.errors.recipients = null;
  if (!hasRecipients()) return hooks.update();
  view.busy = true;
  hooks.update();
  try {
    const files = draft.files.map((f) => ({ id: f.id, sheet: null, mapping: f.mapping }));
    const result = await api.importPreview(files, [...draft.audiences]);
    if (asked !== recipientsAsked) return;
    if (result.status === "needsMapping") {
      view.mapping = result;
      return;
    }
    view.preview = result;
    view.index = Math.min(view.index, Math.max(0, (result.counts?.recipients ?? 1) - 1));
    await loadPlan();
    await renderMessage();
  } catch (error) {
    if (asked === recipientsAsked) view.errors.recipients = ApiError.from(error);
  } finally {
    if (asked === recipientsAsked) {
      view.busy = false;
      hooks.update();
    }
  }
}

export async function loadPlan() {
  view.errors.plan = null;
  try {
    view.plan = await api.blastPlan(draft.accountId);
    // The rehearsal account is made when first planned for: list it then.
    if (!view.accounts.some((a) => a.id === view.plan.accountId)) view.accounts = await api.listAccounts();
  } catch (error) {
    view.plan = null;
    view.errors.plan = ApiError.from(error);
  }
}

/** The message of the customer shown, for the preview. */
export async function renderMessage() {
  if (!view.preview || !draft.template.trim()) {
    view.rendered = null;
    return;
  }
  const asked = ++messageAsked;
  try {
    const rendered = await api.renderMessage(draft.template, missingValue(), view.index);
    if (asked === messageAsked) view.rendered = rendered;
  } catch (error) {
    if (asked === messageAsked) view.rendered = ApiError.from(error);
  }
}

/** Renders again and redraws the preview only (the editor keeps its focus). */
export async function refreshPreview() {
  await renderMessage();
  hooks.updatePreview();
}
