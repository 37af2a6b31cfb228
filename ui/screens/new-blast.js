// New blast: choose saved audiences, write the message with placeholders and
// variants, check each recipient's message, see the pacing and when it will
// finish, and send.

import { api, ApiError } from "../api.js";
import { count, emptyState, errorPanel, h, plural, present, screenHeader } from "../view.js";
import { formatTime, pacingForm, riskList } from "./pacing-view.js";

// The draft survives moving between screens.
const draft = {
  audiences: new Set(),
  preview: null, // the import preview of the chosen audiences
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
};
let accounts = [];
let root = null;

function missingValue() {
  return draft.missing === "skip"
    ? { policy: "skip" }
    : { policy: "fallback", text: draft.fallback };
}

async function loadRecipients() {
  draft.error = null;
  draft.preview = null;
  draft.plan = null;
  draft.rendered = null;
  if (draft.audiences.size === 0) return update();
  draft.busy = true;
  update();
  try {
    const result = await api.importPreview([], [...draft.audiences]);
    draft.preview = result.status === "ready" ? result : null;
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
function onTemplateInput(event) {
  draft.template = event.target.value;
  const counter = root?.querySelector("[data-testid=char-count]");
  if (counter) counter.textContent = `${count(draft.template.length)} characters`;
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
      name: draft.name.trim() || "Blast",
      template: draft.template,
      missing: missingValue(),
      accountId: draft.plan?.accountId ?? null,
      checkNumbers: draft.checkNumbers,
    });
    draft.template = "";
    draft.name = "";
    draft.rendered = null;
    location.hash = "#/blasts";
  } catch (error) {
    draft.error = ApiError.from(error);
  } finally {
    draft.busy = false;
    update();
  }
}

function audiencePicker(saved) {
  if (saved.length === 0) {
    return emptyState({
      title: "No saved audiences yet",
      body: "Import your customer list on the Audiences screen and save it; it will appear here.",
    });
  }
  return h(
    "fieldset",
    { class: "audience-picker", dataset: { testid: "blast-audiences" } },
    h("legend", { text: "Send to" }),
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
  if (!r) return h("p", { class: "muted", text: "Write the message to see what each customer receives." });
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
      h("button", { class: "button", attrs: { type: "button", "aria-label": "Previous recipient", disabled: r.index === 0 ? "disabled" : undefined }, on: { click: () => go(-1) } }, "‹"),
      h("span", { class: "muted", text: `Recipient ${count(r.index + 1)} of ${count(total)}: ${r.phone}` }),
      h("button", { class: "button", attrs: { type: "button", "aria-label": "Next recipient", disabled: r.index + 1 >= total ? "disabled" : undefined }, on: { click: () => go(1) } }, "›"),
    ),
    r.text !== null && r.text !== undefined
      ? h("p", { class: "bubble", dataset: { testid: "rendered" }, text: r.text })
      : h("p", { class: "muted", dataset: { testid: "rendered-skip" }, text: `Skipped: ${r.skipped}` }),
    h("p", { class: "muted small", text: "Variants like {Hi|Hello} are picked for each customer." }),
  );
}

function messageEditor() {
  const fields = draft.preview?.fieldNames ?? [];
  return h(
    "section",
    { class: "card stack" },
    h("h2", { text: "Message" }),
    h(
      "label",
      { class: "field-label", attrs: { for: "blast-name" } },
      "Blast name",
    ),
    h("input", {
      attrs: { id: "blast-name", type: "text", value: draft.name, placeholder: "December promo" },
      on: { input: (e) => (draft.name = e.target.value) },
    }),
    h("label", { class: "field-label", attrs: { for: "template" } }, "Message"),
    fields.length
      ? h(
          "div",
          { class: "chips", attrs: { "aria-label": "Insert a column" } },
          fields.map((name) =>
            h("button", { class: "chip", attrs: { type: "button" }, dataset: { placeholder: name }, on: { click: () => insertPlaceholder(name) } }, `{${name}}`),
          ),
        )
      : null,
    (() => {
      const area = h("textarea", {
        attrs: { id: "template", rows: "5", placeholder: "{Hi|Hello} {name}, our December promo starts today!" },
        on: { input: onTemplateInput },
      });
      area.value = draft.template;
      return area;
    })(),
    h("p", { class: "muted small", dataset: { testid: "char-count" }, text: `${count(draft.template.length)} characters` }),
    h(
      "fieldset",
      { class: "stack" },
      h("legend", { text: "When a customer has no value for a column" }),
      h(
        "label",
        { class: "check" },
        h("input", { attrs: { type: "radio", name: "missing", value: "fallback", checked: draft.missing === "fallback" ? "checked" : undefined }, on: { change: () => { draft.missing = "fallback"; renderMessage().then(updatePreviewOnly); } } }),
        "Write instead: ",
        h("input", { attrs: { type: "text", value: draft.fallback, placeholder: "(nothing)", "aria-label": "Text to write instead" }, on: { input: (e) => { draft.fallback = e.target.value; renderMessage().then(updatePreviewOnly); } } }),
      ),
      h(
        "label",
        { class: "check" },
        h("input", { attrs: { type: "radio", name: "missing", value: "skip", checked: draft.missing === "skip" ? "checked" : undefined }, dataset: { testid: "missing-skip" }, on: { change: () => { draft.missing = "skip"; renderMessage().then(updatePreviewOnly); } } }),
        "Do not send to that customer",
      ),
    ),
    h("div", { class: "preview-slot" }, messagePreview()),
  );
}

async function chooseAccount(value) {
  draft.accountId = value === "" ? null : Number(value);
  draft.editingPacing = false;
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
    h("span", { text: "Send from" }),
    h(
      "select",
      { dataset: { testid: "send-from" }, on: { change: (e) => chooseAccount(e.target.value) } },
      whatsapp.map((a) => h("option", { attrs: { value: String(a.id), selected: draft.accountId === a.id ? "selected" : undefined }, text: label(a) })),
      h("option", { attrs: { value: "", selected: draft.accountId === null ? "selected" : undefined }, text: "Rehearsal (simulated, sends nothing)" }),
    ),
  );
}

function planCard() {
  const plan = draft.plan;
  if (!plan) return null;
  const p = plan.pacing;
  const pacing = p.enabled
    ? [
        `${p.minDelayS}–${p.maxDelayS} s between messages`,
        `a ${Math.round(p.restMinS / 60)}–${Math.round(p.restMaxS / 60)} min rest every ${p.batchMin}–${p.batchMax}`,
        p.hourlyCap ? `at most ${p.hourlyCap} an hour` : "no hourly cap",
        p.dailyCap ? `at most ${p.dailyCap} a day` : "no daily cap",
        p.window ? `only ${p.window.start}–${p.window.end} (${plan.timeZone})` : "at any hour",
      ].join(", ")
    : "Rehearsal: nothing is sent to WhatsApp, so messages are not spaced out.";
  return h(
    "section",
    { class: "card stack", dataset: { testid: "plan" } },
    h("h2", { text: "Sending" }),
    accountPicker(),
    draft.accountId === null
      ? h("p", { class: "muted", text: "A rehearsal: messages are written to a log file instead of WhatsApp." })
      : null,
    h("p", { class: "muted", dataset: { testid: "pacing-summary" }, text: `Pacing: ${pacing}` }),
    h("p", { dataset: { testid: "estimate" } }, "Estimated finish: ", h("strong", { text: formatTime(plan.finishEstimateMs, plan.timeZone) })),
    riskList(plan.risks),
    h(
      "label",
      { class: "check" },
      h("input", {
        attrs: { type: "checkbox", checked: draft.checkNumbers ? "checked" : undefined },
        dataset: { testid: "check-numbers" },
        on: { change: (e) => (draft.checkNumbers = e.target.checked) },
      }),
      "First check which numbers are on WhatsApp, and skip the others (checked a few at a time)",
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
          "Change pacing…",
        ),
  );
}

function render(saved) {
  const preview = draft.preview;
  return h(
    "div",
    { class: "stack" },
    screenHeader("New blast", "Send one personalised message to many customers."),
    ...present(
      draft.error ? errorPanel(draft.error) : null,
      h("section", { class: "card" }, audiencePicker(saved)),
      draft.busy && !preview ? h("p", { class: "progress", attrs: { role: "status" }, text: "Loading recipients…" }) : null,
      preview
        ? h("p", { class: "lead", dataset: { testid: "blast-recipients" }, text: `${plural(preview.counts.recipients, "recipient")} (${plural(preview.counts.excluded, "number")} on the do-not-contact list left out).` })
        : null,
      preview ? messageEditor() : null,
      preview ? planCard() : null,
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
                on: { click: send },
              },
              "Send now",
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
  const date = h("input", { attrs: { type: "date", value: `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`, "aria-label": "Date" }, dataset: { testid: "schedule-date" } });
  const time = h("input", { attrs: { type: "time", value: "09:00", "aria-label": "Time" }, dataset: { testid: "schedule-time" } });
  const form = h(
    "form",
    { class: "row" },
    h("span", { class: "muted", text: "or send on" }),
    date,
    h("span", { class: "muted", text: "at" }),
    time,
    h("span", { class: "muted", text: `(${draft.plan?.timeZone ?? ""})` }),
    h("button", { class: "button", attrs: { type: "submit", disabled: draft.busy || !draft.template.trim() ? "disabled" : undefined }, dataset: { testid: "schedule-blast" } }, "Schedule"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    draft.error = null;
    try {
      const accountId = draft.plan?.accountId;
      const name = draft.name.trim() || "Blast";
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
        refresh: null,
      });
      draft.template = "";
      draft.name = "";
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
  title: "New blast",
  async render() {
    try {
      saved = await api.listAudiences();
      accounts = await api.listAccounts();
    } catch (error) {
      return errorPanel(ApiError.from(error));
    }
    for (const name of [...draft.audiences]) {
      if (!saved.some((a) => a.name === name)) draft.audiences.delete(name);
    }
    root = h("div", {});
    root.replaceChildren(render(saved));
    if (draft.audiences.size && !draft.preview) queueMicrotask(loadRecipients);
    return root;
  },
};
