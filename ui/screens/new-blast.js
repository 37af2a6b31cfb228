// New blast, one guided flow in four steps on one page: recipients (saved
// audiences, and lists added or dropped here, with their preview), the
// message (placeholders, variants, an attachment, the message of any
// recipient, its length), sending (account, pacing, how long and until when,
// risks), and a review of who, what, when and from which number before "Send
// now" or "Schedule". The draft is kept in the database as it is written, so
// closing the window loses nothing.

import { N_, locale, t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { count, errorPanel, h, plural, present, screenHeader } from "../view.js";
import { formatTime, pacingForm, riskList } from "./pacing-view.js";

// The draft survives moving between screens.
const draft = {
  audiences: new Set(),
  preview: null, // the import preview of the chosen audiences and files
  name: "",
  template: "",
  missing: "fallback", // "fallback" | "skip"
  fallback: "",
  index: 0,
  rendered: null, // {index, phone, text, skipped} or an ApiError
  plan: null,
  error: null,
  busy: false,
  editingPacing: false,
  checkNumbers: false,
  accountId: null, // null: the rehearsal account
  attachment: null, // {id, name, kind, bytes}: chosen in this session
  files: [], // [{id, name, mapping}]: lists dropped or chosen in this session
  mapping: null, // {fileId, file, columns}: the phone column to ask for
  dropped: [], // names of files a restart made unknown, to add again
  run: null, // this run of Blastdesk (app info)
  restored: false, // the saved draft was read back
};

/** What of the draft is kept in the database. */
function kept() {
  return {
    // Files and the attachment are known by id only while Blastdesk runs:
    // kept for a closed and reopened window, not across a restart.
    run: draft.run,
    files: draft.files,
    attachment: draft.attachment,
    audiences: [...draft.audiences],
    name: draft.name,
    template: draft.template,
    missing: draft.missing,
    fallback: draft.fallback,
    checkNumbers: draft.checkNumbers,
    accountId: draft.accountId,
  };
}

let saving = null;
/** Saves the draft a moment after the last change. */
function keep() {
  clearTimeout(saving);
  saving = setTimeout(() => {
    const empty = !draft.audiences.size && !draft.files.length && !draft.attachment && !draft.template.trim() && !draft.name.trim();
    api.saveDraft(empty ? null : JSON.stringify(kept())).catch(() => {});
  }, 400);
}

function restore(text) {
  draft.restored = true;
  if (!text) return;
  try {
    const saved = JSON.parse(text);
    const chosen = [...(saved.files ?? []), ...(saved.attachment ? [saved.attachment] : [])];
    if (saved.run === draft.run) {
      draft.files = Array.isArray(saved.files) ? saved.files : [];
      draft.attachment = saved.attachment ?? null;
    } else if (chosen.length) {
      draft.dropped = chosen.map((f) => f.name);
    }
    draft.audiences = new Set(saved.audiences ?? []);
    draft.name = saved.name ?? "";
    draft.template = saved.template ?? "";
    draft.missing = saved.missing === "skip" ? "skip" : "fallback";
    draft.fallback = saved.fallback ?? "";
    draft.checkNumbers = Boolean(saved.checkNumbers);
    draft.accountId = Number.isInteger(saved.accountId) ? saved.accountId : null;
    // A saved draft keeps the sender it had, rehearsal included.
    draft.accountChosen = true;
  } catch {
    // A draft that cannot be read is dropped, not shown half.
  }
}

function clearDraft() {
  Object.assign(draft, { audiences: new Set(), files: [], dropped: [], name: "", template: "", rendered: null, attachment: null, preview: null, plan: null });
  clearTimeout(saving);
  api.saveDraft(null).catch(() => {});
}

/** The welcome's rehearsal: the sample audience and message, from the rehearsal account. */
export function prepareRehearsal(rehearsal, name) {
  draft.restored = true;
  draft.audiences = new Set([rehearsal.audience]);
  draft.template = rehearsal.template;
  draft.name = name;
  draft.accountId = null;
  draft.accountChosen = true;
  draft.preview = null;
  draft.attachment = null;
  draft.files = [];
  draft.dropped = [];
  keep();
}

let accounts = [];
let root = null;

function missingValue() {
  return draft.missing === "skip"
    ? { policy: "skip" }
    : { policy: "fallback", text: draft.fallback };
}

/** Lists dropped on the window (or chosen) while on this screen. */
export async function addFiles(granted) {
  draft.dropped = draft.dropped.filter((name) => !granted.some((f) => f.name === name));
  for (const file of granted) {
    if (!draft.files.some((f) => f.id === file.id)) draft.files.push({ id: file.id, name: file.name, mapping: null });
  }
  keep();
  await loadRecipients();
}

function hasRecipients() {
  return draft.audiences.size > 0 || draft.files.length > 0;
}

async function loadRecipients() {
  draft.error = null;
  draft.preview = null;
  draft.plan = null;
  draft.rendered = null;
  draft.mapping = null;
  if (!hasRecipients()) return update();
  draft.busy = true;
  update();
  try {
    const files = draft.files.map((f) => ({ id: f.id, sheet: null, mapping: f.mapping }));
    const result = await api.importPreview(files, [...draft.audiences]);
    if (result.status === "needsMapping") {
      draft.mapping = result;
      return;
    }
    draft.preview = result;
    draft.plan = await api.blastPlan(draft.accountId);
    await renderMessage();
  } catch (error) {
    draft.error = ApiError.from(error);
  } finally {
    draft.busy = false;
    update();
  }
}

async function renderMessage() {
  if (!draft.preview || !draft.template.trim()) {
    draft.rendered = null;
    return;
  }
  try {
    draft.rendered = await api.renderMessage(draft.template, missingValue(), draft.index);
  } catch (error) {
    draft.rendered = ApiError.from(error);
  }
}

let typing = null;
function charCount() {
  return t("{n} characters", { n: count(draft.template.length) });
}

function onTemplateInput(event) {
  draft.template = event.target.value;
  keep();
  const counter = root?.querySelector("[data-testid=char-count]");
  if (counter) counter.textContent = charCount();
  for (const testid of ["send-now", "schedule-blast"]) {
    const button = root?.querySelector(`[data-testid=${testid}]`);
    if (button) button.disabled = draft.busy || !draft.template.trim();
  }
  clearTimeout(typing);
  typing = setTimeout(async () => {
    await renderMessage();
    updatePreviewOnly();
  }, 200);
}

function insertPlaceholder(name) {
  const area = root?.querySelector("#template");
  if (!area) return;
  const token = `{${name}}`;
  const start = area.selectionStart ?? area.value.length;
  const end = area.selectionEnd ?? area.value.length;
  area.value = area.value.slice(0, start) + token + area.value.slice(end);
  area.focus();
  area.selectionStart = area.selectionEnd = start + token.length;
  area.dispatchEvent(new Event("input"));
}

async function send() {
  draft.error = null;
  draft.busy = true;
  update();
  try {
    await api.createBlast({
      name: draft.name.trim() || t("Blast"),
      template: draft.template,
      missing: missingValue(),
      accountId: draft.plan?.accountId ?? null,
      checkNumbers: draft.checkNumbers,
      attachmentId: draft.attachment?.id ?? null,
    });
    clearDraft();
    location.hash = "#/blasts";
  } catch (error) {
    draft.error = ApiError.from(error);
  } finally {
    draft.busy = false;
    update();
  }
}

/**
 * The last word before anything is sent: how many, from which number and
 * until when; a rehearsal says plainly that it sends nothing. The app's own
 * dialog, not the browser's.
 */
function confirmSend() {
  const plan = draft.plan;
  const n = draft.preview?.counts?.recipients ?? 0;
  const rehearsal = draft.accountId === null;
  const account = accounts.find((a) => a.id === plan?.accountId);
  const from = account ? `${account.name}${account.phone ? ` (${account.phone})` : ""}` : "—";
  const finish = plan ? formatTime(plan.finishEstimateMs, plan.timeZone) : "—";
  const name = draft.name.trim() || t("Blast");
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  const dialog = h(
    "dialog",
    { class: `card stack confirm-send ${rehearsal ? "rehearsal" : "real"}`, dataset: { testid: "send-confirmation", kind: rehearsal ? "rehearsal" : "real" } },
    h("h2", { text: rehearsal ? t("Start the rehearsal?") : t("Send “{name}” now?", { name }) }),
    h("p", {
      dataset: { testid: "confirmation-text" },
      text: rehearsal
        ? t("{count}, made up on the rehearsal account: nothing reaches WhatsApp or any customer.", { count: plural(n, "recipient") })
        : t("To {count} from {from}, one by one; the last one about {finish}. A message that went out cannot be taken back.", { count: plural(n, "recipient"), from, finish }),
    }),
    h(
      "div",
      { class: "row" },
      h("button", { class: "button", attrs: { type: "button" }, dataset: { testid: "cancel-send" }, on: { click: close } }, t("Cancel")),
      h(
        "button",
        { class: "button primary", attrs: { type: "button" }, dataset: { testid: "confirm-send" }, on: { click: () => { close(); send(); } } },
        rehearsal ? t("Start the rehearsal") : t("Send to {count}", { count: plural(n, "recipient") }),
      ),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
}

/** The files chosen for this blast, each removable, and a way to add more. */
function filePicker() {
  const choose = async () => {
    try {
      const granted = await api.pickFiles();
      if (granted.length) await addFiles(granted);
    } catch (error) {
      draft.error = ApiError.from(error);
      update();
    }
  };
  return h(
    "div",
    { class: "stack", dataset: { testid: "blast-files" } },
    draft.dropped.length
      ? h("p", { class: "notice notice-error", attrs: { role: "status" }, dataset: { testid: "dropped-files" }, text: t("Blastdesk was restarted since this draft was written: choose {files} again.", { files: draft.dropped.join(", ") }) })
      : null,
    draft.files.length
      ? h(
          "ul",
          { class: "chips", attrs: { "aria-label": t("Chosen files") } },
          draft.files.map((file) =>
            h(
              "li",
              { class: "chip" },
              h("span", { text: file.name }),
              h(
                "button",
                {
                  class: "chip-remove",
                  attrs: { type: "button", "aria-label": t("Remove {file}", { file: file.name }) },
                  on: { click: () => { draft.files = draft.files.filter((f) => f.id !== file.id); keep(); loadRecipients(); } },
                },
                "×",
              ),
            ),
          ),
        )
      : null,
    h(
      "div",
      { class: "row" },
      h("button", { class: "button", attrs: { type: "button" }, dataset: { testid: "blast-add-files" }, on: { click: choose } }, t("Add Excel or CSV files…")),
      h("span", { class: "muted", text: t("or drop them on this window") }),
    ),
  );
}

/** When a file's phone column is unclear: ask for it here. */
function mappingQuestion() {
  const m = draft.mapping;
  const select = h(
    "select",
    { attrs: { id: "blast-phone-column" }, dataset: { testid: "blast-phone-column" } },
    m.columns.map((c) => h("option", { attrs: { value: c.letter }, text: `${c.letter}: ${c.header || t("(no header)")}${c.samples.length ? ` (${c.samples.slice(0, 2).join(", ")})` : ""}` })),
  );
  return h(
    "div",
    { class: "row", attrs: { role: "group" } },
    h("label", { attrs: { for: "blast-phone-column" }, text: t("Which column of {file} holds the phone numbers?", { file: m.file }) }),
    select,
    h("button", { class: "button primary", attrs: { type: "button" }, dataset: { testid: "blast-use-column" }, on: { click: () => {
      const file = draft.files.find((f) => f.id === m.fileId);
      if (file) file.mapping = { phoneColumn: select.value, headerRow: null };
      keep();
      loadRecipients();
    } } }, t("Use this column")),
  );
}

/** What the import found, in short, with the rows that cannot be used. */
function previewSummary(preview) {
  const c = preview.counts;
  const problems = [
    ...preview.invalid.slice(0, 20).map((row) => `${row.value || "—"}: ${row.reason}`),
  ];
  return h(
    "div",
    { class: "stack", dataset: { testid: "blast-preview" } },
    h("p", { class: "lead", dataset: { testid: "blast-recipients" }, text: t("{recipients} ({excluded} on the do-not-contact list left out).", { recipients: plural(c.recipients, "recipient"), excluded: plural(c.excluded, "number") }) }),
    c.invalid || c.overridden
      ? h("p", { class: "muted", dataset: { testid: "blast-preview-problems" }, text: t("{invalid} cannot be used; {overridden} merged.", { invalid: plural(c.invalid, "row"), overridden: plural(c.overridden, "duplicate") }) })
      : null,
    problems.length
      ? h("details", {}, h("summary", { text: t("Rows that cannot be used") }), h("ul", {}, problems.map((text) => h("li", { text }))))
      : null,
  );
}

function audiencePicker(saved) {
  if (saved.length === 0) {
    return h("p", { class: "muted", text: t("No saved audiences yet: add files here, or import and save a list on the Audiences screen.") });
  }
  return h(
    "fieldset",
    { class: "audience-picker", dataset: { testid: "blast-audiences" } },
    h("legend", { text: t("Send to") }),
    saved.map((audience) =>
      h(
        "label",
        { class: "check" },
        h("input", {
          attrs: {
            type: "checkbox",
            value: audience.name,
            checked: draft.audiences.has(audience.name) ? "checked" : undefined,
          },
          on: {
            change: (event) => {
              if (event.target.checked) draft.audiences.add(audience.name);
              else draft.audiences.delete(audience.name);
              keep();
              loadRecipients();
            },
          },
        }),
        h("span", { dataset: { testid: "audience-name" }, text: audience.name }),
        h("span", { class: "muted", text: plural(audience.contacts, "contact") }),
      ),
    ),
  );
}

function messagePreview() {
  const r = draft.rendered;
  if (!r) return h("p", { class: "muted", text: t("Write the message to see what each customer receives.") });
  if (r instanceof ApiError) {
    return h("p", { class: "error-text", attrs: { role: "alert" }, dataset: { testid: "template-error" }, text: r.message });
  }
  const total = draft.preview?.counts?.recipients ?? 0;
  const go = async (delta) => {
    draft.index = Math.min(Math.max(0, r.index + delta), Math.max(0, total - 1));
    await renderMessage();
    updatePreviewOnly();
  };
  return h(
    "div",
    { class: "message-preview" },
    h(
      "div",
      { class: "row" },
      h("button", { class: "button", attrs: { type: "button", "aria-label": t("Previous recipient"), disabled: r.index === 0 ? "disabled" : undefined }, on: { click: () => go(-1) } }, "‹"),
      h("span", { class: "muted", text: t("Recipient {n} of {total}: {phone}", { n: count(r.index + 1), total: count(total), phone: r.phone }) }),
      h("button", { class: "button", attrs: { type: "button", "aria-label": t("Next recipient"), disabled: r.index + 1 >= total ? "disabled" : undefined }, on: { click: () => go(1) } }, "›"),
    ),
    finder(),
    r.text !== null && r.text !== undefined
      ? h("p", { class: "bubble", dataset: { testid: "rendered" }, text: r.text })
      : h("p", { class: "muted", dataset: { testid: "rendered-skip" }, text: t("Skipped: {reason}", { reason: r.skipped }) }),
    r.text ? lengthNote(r.text) : null,
    h("p", { class: "muted small", text: t("Variants like {Hi|Hello} are picked for each customer.") }),
  );
}

/** WhatsApp's limits: a text message, and a caption under an attachment. */
const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;

/** This customer's message length, and a warning past WhatsApp's limit. */
function lengthNote(text) {
  const length = [...text].length;
  const limit = draft.attachment ? CAPTION_LIMIT : TEXT_LIMIT;
  return length > limit
    ? h("p", { class: "error-text", attrs: { role: "alert" }, dataset: { testid: "too-long" }, text: draft.attachment
        ? t("This customer's caption has {n} characters; WhatsApp shows at most {limit} under a photo or file.", { n: count(length), limit: count(limit) })
        : t("This customer's message has {n} characters; WhatsApp takes at most {limit}.", { n: count(length), limit: count(limit) }) })
    : h("p", { class: "muted small", dataset: { testid: "rendered-length" }, text: t("{n} characters in this customer's message", { n: count(length) }) });
}

/** Jumps to the first recipient whose number or any value contains the text. */
function finder() {
  const input = h("input", { attrs: { id: "find-recipient", type: "search", placeholder: t("Name or number"), "aria-label": t("Show the message of") }, dataset: { testid: "find-recipient" } });
  const status = h("span", { class: "muted", attrs: { role: "status" } });
  const form = h("form", { class: "row" }, h("label", { attrs: { for: "find-recipient" }, text: t("Show the message of") }), input, h("button", { class: "button", attrs: { type: "submit" } }, t("Show")), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const wanted = input.value.trim().toLowerCase();
    if (!wanted) return;
    const digits = wanted.replace(/\D/g, "");
    const found = (draft.preview?.recipients ?? []).findIndex(
      (r) => (digits.length >= 3 && r.phone.replace(/\D/g, "").includes(digits)) || Object.values(r.fields).some((v) => String(v).toLowerCase().includes(wanted)),
    );
    if (found < 0) {
      status.textContent = t("No recipient matches “{text}”.", { text: input.value.trim() });
      return;
    }
    draft.index = found;
    await renderMessage();
    updatePreviewOnly();
  });
  return form;
}

function messageEditor() {
  const fields = draft.preview?.fieldNames ?? [];
  return h(
    "section",
    { class: "card stack" },
    h("h2", {}, h("span", { class: "step-number", text: "2" }), t("Message")),
    h(
      "label",
      { class: "field-label", attrs: { for: "blast-name" } },
      t("Blast name"),
    ),
    h("input", {
      attrs: { id: "blast-name", type: "text", value: draft.name, placeholder: t("December promo") },
      on: { input: (e) => { draft.name = e.target.value; keep(); } },
    }),
    h("label", { class: "field-label", attrs: { for: "template" } }, t("Message")),
    fields.length
      ? h(
          "div",
          { class: "chips", attrs: { role: "group", "aria-label": t("Insert a column") } },
          fields.map((name) =>
            h("button", { class: "chip", attrs: { type: "button", title: t("Insert {column}", { column: name }) }, dataset: { placeholder: name }, on: { click: () => insertPlaceholder(name) } }, `{${name}}`),
          ),
        )
      : null,
    (() => {
      const area = h("textarea", {
        attrs: { id: "template", rows: "5", placeholder: t("{Hi|Hello} {name}, our December promo starts today!"), "aria-describedby": "char-count" },
        on: { input: onTemplateInput },
      });
      area.value = draft.template;
      return area;
    })(),
    h("p", { class: "muted small", attrs: { id: "char-count", "aria-live": "polite" }, dataset: { testid: "char-count" }, text: charCount() }),
    attachmentPicker(),
    h(
      "fieldset",
      { class: "stack" },
      h("legend", { text: t("When a customer has no value for a column") }),
      h(
        "label",
        { class: "check" },
        h("input", { attrs: { type: "radio", name: "missing", value: "fallback", checked: draft.missing === "fallback" ? "checked" : undefined }, on: { change: () => { draft.missing = "fallback"; renderMessage().then(updatePreviewOnly); } } }),
        t("Write instead:"),
        " ",
        h("input", { attrs: { type: "text", value: draft.fallback, placeholder: t("(nothing)"), "aria-label": t("Text to write instead") }, on: { input: (e) => { draft.fallback = e.target.value; keep(); renderMessage().then(updatePreviewOnly); } } }),
      ),
      h(
        "label",
        { class: "check" },
        h("input", { attrs: { type: "radio", name: "missing", value: "skip", checked: draft.missing === "skip" ? "checked" : undefined }, dataset: { testid: "missing-skip" }, on: { change: () => { draft.missing = "skip"; renderMessage().then(updatePreviewOnly); } } }),
        t("Do not send to that customer"),
      ),
    ),
    h("div", { class: "preview-slot" }, messagePreview()),
  );
}

async function chooseAccount(value) {
  draft.accountId = value === "" ? null : Number(value);
  draft.accountChosen = true;
  draft.editingPacing = false;
  keep();
  try {
    draft.plan = await api.blastPlan(draft.accountId);
  } catch (error) {
    draft.error = ApiError.from(error);
  }
  update();
}

function accountPicker() {
  const whatsapp = accounts.filter((a) => a.kind === "whatsapp");
  const label = (a) => `${a.name}${a.phone ? ` (${a.phone})` : ""}${a.status.status === "connected" ? "" : ` — ${a.status.status.replaceAll("_", " ")}`}`;
  return h(
    "label",
    { class: "row" },
    h("span", { text: t("Send from") }),
    h(
      "select",
      { dataset: { testid: "send-from" }, on: { change: (e) => chooseAccount(e.target.value) } },
      whatsapp.map((a) => h("option", { attrs: { value: String(a.id), selected: draft.accountId === a.id ? "selected" : undefined }, text: label(a) })),
      h("option", { attrs: { value: "", selected: draft.accountId === null ? "selected" : undefined }, text: t("Rehearsal (simulated, sends nothing)") }),
    ),
  );
}

function planCard() {
  const plan = draft.plan;
  if (!plan) return null;
  const p = plan.pacing;
  const pacing = p.enabled
    ? [
        t("{min}–{max} s between messages", { min: p.minDelayS, max: p.maxDelayS }),
        t("a {min}–{max} min rest every {from}–{to}", { min: Math.round(p.restMinS / 60), max: Math.round(p.restMaxS / 60), from: p.batchMin, to: p.batchMax }),
        p.hourlyCap ? t("at most {n} an hour", { n: count(p.hourlyCap) }) : t("no hourly cap"),
        p.dailyCap ? t("at most {n} a day", { n: count(p.dailyCap) }) : t("no daily cap"),
        p.window ? t("only {start}–{end} ({zone})", { start: p.window.start, end: p.window.end, zone: plan.timeZone }) : t("at any hour"),
      ].join(", ")
    : t("Rehearsal: nothing is sent to WhatsApp, so messages are not spaced out.");
  return h(
    "section",
    { class: "card stack", dataset: { testid: "plan" } },
    h("h2", {}, h("span", { class: "step-number", text: "3" }), t("Sending")),
    accountPicker(),
    draft.accountId === null
      ? h("p", { class: "muted", text: t("A rehearsal: messages are written to a log file instead of WhatsApp.") })
      : null,
    h("p", { class: "muted", dataset: { testid: "pacing-summary" }, text: t("Pacing: {pacing}", { pacing }) }),
    h("p", { dataset: { testid: "estimate" } }, t("Estimated finish:"), " ", h("strong", { text: formatTime(plan.finishEstimateMs, plan.timeZone) })),
    h("p", { class: "muted", dataset: { testid: "duration" }, text: t("Sending takes about {duration}.", { duration: duration(plan.finishEstimateMs - Date.now()) }) }),
    riskList(plan.risks),
    h(
      "label",
      { class: "check" },
      h("input", {
        attrs: { type: "checkbox", checked: draft.checkNumbers ? "checked" : undefined },
        dataset: { testid: "check-numbers" },
        on: { change: (e) => { draft.checkNumbers = e.target.checked; keep(); } },
      }),
      t("First check which numbers are on WhatsApp, and skip the others (checked a few at a time)"),
    ),
    draft.editingPacing
      ? pacingForm(plan.pacing, async (next) => {
          await api.setAccountPacing(plan.accountId, next);
          draft.editingPacing = false;
          draft.plan = await api.blastPlan(plan.accountId);
          update();
        })
      : h(
          "button",
          { class: "button", attrs: { type: "button" }, dataset: { testid: "change-pacing" }, on: { click: () => { draft.editingPacing = true; update(); } } },
          t("Change pacing…"),
        ),
  );
}

/** "about 2 h 10 min": a rough length of time. */
function duration(ms) {
  const minutes = Math.max(1, Math.round(ms / 60000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days) return t("{d} d {h} h", { d: count(days), h: hours });
  if (hours) return t("{h} h {m} min", { h: hours, m: rest });
  return t("{m} min", { m: rest });
}

const KINDS = { image: N_("photo"), video: N_("video"), audio: N_("audio"), document: N_("document") };

function sizeText(bytes) {
  return bytes >= 1024 * 1024
    ? t("{n} MB", { n: new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(bytes / (1024 * 1024)) })
    : t("{n} KB", { n: count(Math.max(1, Math.round(bytes / 1024))) });
}

/** An optional photo, video or document sent with the message as its caption. */
function attachmentPicker() {
  const a = draft.attachment;
  const choose = async () => {
    try {
      const chosen = await api.pickAttachment();
      if (chosen) {
        draft.attachment = chosen;
        draft.dropped = draft.dropped.filter((name) => name !== chosen.name);
      }
      keep();
    } catch (error) {
      draft.error = ApiError.from(error);
    }
    update();
  };
  return h(
    "div",
    { class: "row", dataset: { testid: "attachment" } },
    a
      ? [
          h("span", { dataset: { testid: "attachment-name" }, text: a.kind === "audio"
            // WhatsApp gives audio no caption: the adapter sends the text first, on its own.
            ? t("Attached: {name} ({kind}, {size}). Audio has no caption in WhatsApp: your message is sent first, as its own text, then the audio.", { name: a.name, kind: t(KINDS[a.kind] ?? a.kind), size: sizeText(a.bytes) })
            : t("Attached: {name} ({kind}, {size}); the message is its caption.", { name: a.name, kind: t(KINDS[a.kind] ?? a.kind), size: sizeText(a.bytes) }) }),
          h("button", { class: "button small", attrs: { type: "button" }, dataset: { testid: "remove-attachment" }, on: { click: () => { draft.attachment = null; keep(); update(); } } }, t("Remove")),
        ]
      : h("button", { class: "button", attrs: { type: "button" }, dataset: { testid: "add-attachment" }, on: { click: choose } }, t("Attach a photo or file…")),
  );
}

/** Step 4: who, what, when and from which number, before anything is sent. */
function review() {
  const plan = draft.plan;
  const account = accounts.find((a) => a.id === plan?.accountId);
  const from = draft.accountId === null
    ? t("the rehearsal account (nothing is sent to WhatsApp)")
    : account
      ? `${account.name}${account.phone ? ` (${account.phone})` : ""}`
      : "—";
  const r = draft.rendered;
  const example = r && !(r instanceof ApiError) && r.text ? r.text : null;
  const item = (label, value, testid) => [h("dt", { text: label }), h("dd", { dataset: { testid }, text: value })];
  return h(
    "section",
    { class: "card stack", dataset: { testid: "review" } },
    h("h2", {}, h("span", { class: "step-number", text: "4" }), t("Review")),
    h(
      "dl",
      { class: "facts" },
      item(t("To"), plural(draft.preview?.counts?.recipients ?? 0, "recipient"), "review-to"),
      item(t("From"), from, "review-from"),
      item(t("Message"), example ?? (draft.template.trim() ? draft.template : t("(not written yet)")), "review-message"),
      draft.attachment ? item(t("Attachment"), draft.attachment.name, "review-attachment") : null,
      item(t("Finishes about"), plan ? formatTime(plan.finishEstimateMs, plan.timeZone) : "—", "review-finish"),
    ),
  );
}

function render(saved) {
  const preview = draft.preview;
  return h(
    "div",
    { class: "stack" },
    screenHeader(t("New blast"), t("Send one personalised message to many customers.")),
    ...present(
      draft.error ? errorPanel(draft.error) : null,
      h(
        "section",
        { class: "card stack" },
        h("h2", {}, h("span", { class: "step-number", text: "1" }), t("Recipients")),
        audiencePicker(saved),
        filePicker(),
        draft.mapping ? mappingQuestion() : null,
        draft.busy && !preview ? h("p", { class: "progress", attrs: { role: "status" }, text: t("Loading recipients…") }) : null,
        preview ? previewSummary(preview) : null,
      ),
      preview ? messageEditor() : null,
      preview ? planCard() : null,
      preview ? review() : null,
      preview
        ? h(
            "div",
            { class: "row" },
            h(
              "button",
              {
                class: "button primary",
                attrs: { type: "button", disabled: draft.busy || !draft.template.trim() ? "disabled" : undefined },
                dataset: { testid: "send-now" },
                on: { click: confirmSend },
              },
              t("Send now"),
            ),
            scheduleForm(),
          )
        : null,
    ),
  );
}

/** "Schedule" instead of "Send now": the same blast, once, at a local time. */
function scheduleForm() {
  const today = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const date = h("input", { attrs: { type: "date", value: `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`, "aria-label": t("Date") }, dataset: { testid: "schedule-date" } });
  const time = h("input", { attrs: { type: "time", value: "09:00", "aria-label": t("Time") }, dataset: { testid: "schedule-time" } });
  const form = h(
    "form",
    { class: "row" },
    h("span", { class: "muted", text: t("or send on") }),
    date,
    h("span", { class: "muted", text: t("at") }),
    time,
    h("span", { class: "muted", text: `(${draft.plan?.timeZone ?? ""})` }),
    h("button", { class: "button", attrs: { type: "submit", disabled: draft.busy || !draft.template.trim() ? "disabled" : undefined }, dataset: { testid: "schedule-blast" } }, t("Schedule")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    draft.error = null;
    try {
      if (draft.files.length > 1) {
        throw new ApiError("invalid_input", t("A schedule reads one list again before each run: keep one file, or save the lists as an audience first."));
      }
      const [file] = draft.files;
      const accountId = draft.plan?.accountId;
      const name = draft.name.trim() || t("Blast");
      await api.addSchedule({
        name,
        rule: { repeat: "once", date: date.value, time: time.value },
        timeZone: draft.plan?.timeZone ?? "UTC",
        graceSeconds: 3600,
        blast: {
          accountId,
          name,
          template: draft.template,
          audiences: [...draft.audiences],
          options: { missingValue: missingValue(), checkNumbers: draft.checkNumbers },
        },
        refresh: file?.mapping ? { file: file.name, sheet: null, mapping: file.mapping } : null,
      }, file?.id ?? null, draft.attachment?.id ?? null);
      clearDraft();
      location.hash = "#/schedules";
    } catch (error) {
      draft.error = ApiError.from(error);
      update();
    }
  });
  return form;
}

let saved = [];
function update() {
  if (!root?.isConnected) return;
  const focused = document.activeElement?.id;
  root.replaceChildren(render(saved));
  if (focused) root.querySelector(`#${focused}`)?.focus();
}

function updatePreviewOnly() {
  const slot = root?.querySelector(".preview-slot");
  if (slot) slot.replaceChildren(messagePreview());
}

export default {
  id: "new-blast",
  get title() {
    return t("New blast");
  },
  async render({ prefs, info }) {
    draft.run = info?.runId ?? null;
    if (!draft.restored) restore(prefs?.draft);
    try {
      saved = await api.listAudiences();
      accounts = await api.listAccounts();
    } catch (error) {
      return errorPanel(ApiError.from(error));
    }
    // A new blast goes from a connected number when there is one; a
    // rehearsal is chosen on purpose (or by the welcome's rehearsal).
    if (!draft.accountChosen && draft.accountId === null) {
      const connected = accounts.find((a) => a.kind === "whatsapp" && a.status.status === "connected");
      if (connected) draft.accountId = connected.id;
    }
    for (const name of [...draft.audiences]) {
      if (!saved.some((a) => a.name === name)) draft.audiences.delete(name);
    }
    root = h("div", {});
    root.replaceChildren(render(saved));
    // Always read the recipients again: another screen may have previewed
    // other lists since, and what is sent must be what this screen shows.
    if (hasRecipients()) queueMicrotask(loadRecipients);
    return root;
  },
};
