// Step 3 of New blast: from which number, how fast and when (now, or on a
// schedule with only the fields its repeat needs), then the sticky action
// bar ("Send to 409 customers from Toko Pusat") and the last question before
// anything is sent. Errors show next to the action that caused them.

import { t } from "../../i18n.js";
import { api, ApiError } from "../../api.js";
import { count, h, plural } from "../../view.js";
import { formatDuration, formatTime, zoneName } from "../../format.js";
import { pacingForm, riskList } from "../pacing-view.js";
import { localNow, nextSlot, ruleFields, scheduleMade, weekday } from "./when.js";
import { clearDraft, draft, hooks, keep, loadPlan, missingValue, recipientCount, view } from "./state.js";
import { inlineError } from "./recipients.js";

function account() {
  return view.accounts.find((a) => a.id === view.plan?.accountId) ?? null;
}

function isRehearsal() {
  return draft.accountId === null;
}

/** "Toko Pusat (+62 812…)": the number a blast goes from. */
function fromText() {
  const a = account();
  if (!a) return "—";
  return `${a.name}${a.phone ? ` (${a.phone})` : ""}`;
}

async function chooseAccount(value) {
  draft.accountId = value === "" ? null : Number(value);
  draft.accountChosen = true;
  view.editingPacing = false;
  keep();
  await loadPlan();
  hooks.update();
}

function accountPicker() {
  const whatsapp = view.accounts.filter((a) => a.kind === "whatsapp");
  const label = (a) => `${a.name}${a.phone ? ` (${a.phone})` : ""}${a.status.status === "connected" ? "" : ` — ${t("not connected")}`}`;
  return h(
    "label",
    { class: "row" },
    h("span", { text: t("Send from") }),
    h(
      "select",
      { dataset: { testid: "send-from" }, on: { change: (e) => chooseAccount(e.target.value) } },
      whatsapp.map((a) =>
        h("option", { attrs: { value: String(a.id), selected: draft.accountId === a.id ? "selected" : undefined }, text: label(a) }),
      ),
      h("option", {
        attrs: { value: "", selected: draft.accountId === null ? "selected" : undefined },
        text: t("Rehearsal (simulated, sends nothing)"),
      }),
    ),
  );
}

function pacingSummary(plan) {
  const p = plan.pacing;
  if (!p.enabled) return t("Rehearsal: nothing is sent to WhatsApp, so messages are not spaced out.");
  return [
    t("{min}–{max} s between messages", { min: p.minDelayS, max: p.maxDelayS }),
    t("a {min}–{max} min rest every {from}–{to}", {
      min: Math.round(p.restMinS / 60),
      max: Math.round(p.restMaxS / 60),
      from: p.batchMin,
      to: p.batchMax,
    }),
    p.hourlyCap ? t("at most {n} an hour", { n: count(p.hourlyCap) }) : t("no hourly cap"),
    p.dailyCap ? t("at most {n} a day", { n: count(p.dailyCap) }) : t("no daily cap"),
    p.window
      ? t("only {start}–{end} ({zone})", { start: p.window.start, end: p.window.end, zone: zoneName(plan.timeZone) })
      : t("at any hour"),
  ].join(", ");
}

/** The schedule being written, with the next free slot as its default. */
function scheduleDraft(plan) {
  const slot = nextSlot(plan.pacing, plan.timeZone);
  const s = draft.schedule;
  // A one-off time that has passed (the draft was kept since) is proposed afresh.
  const now = localNow(plan.timeZone);
  const [hours, minutes] = String(s?.time ?? "00:00")
    .split(":")
    .map(Number);
  const passed = s?.repeat === "once" && (s.date < now.date || (s.date === now.date && hours * 60 + minutes <= now.minutes));
  const stale = !s || passed;
  if (stale)
    draft.schedule = { repeat: "once", date: slot.date, time: slot.time, days: [weekday(slot.date)], day: Number(slot.date.slice(8)) };
  return draft.schedule;
}

let readRule = null;

function whenChoice(plan) {
  const radio = (value, testid, label) =>
    h(
      "label",
      { class: `when-option${draft.when === value ? " is-chosen" : ""}` },
      h("input", {
        attrs: { type: "radio", name: "when", value, checked: draft.when === value ? "checked" : undefined },
        dataset: { testid },
        on: {
          change: () => {
            draft.when = value;
            view.errors.send = null;
            keep();
            hooks.update();
          },
        },
      }),
      h("span", { text: label }),
    );
  let fields = null;
  readRule = null;
  if (draft.when === "schedule") {
    const rule = scheduleDraft(plan);
    const made = ruleFields(rule, {
      timeZone: plan.timeZone,
      onChange: (next) => {
        draft.schedule = next;
        keep();
      },
    });
    readRule = made.read;
    fields = h(
      "div",
      { class: "stack" },
      made.element,
      h("p", {
        class: "muted small",
        text: t(
          "The first free time in this number's sending hours is chosen for you. Blastdesk runs it from the tray, even with its window closed.",
        ),
      }),
    );
  }
  return h(
    "fieldset",
    { class: "stack when", dataset: { testid: "when" } },
    h("legend", { text: t("When") }),
    h("div", { class: "when-options" }, radio("now", "when-now", t("Send now")), radio("schedule", "when-schedule", t("Schedule"))),
    fields,
  );
}

/** Who, what, when and from which number, before anything is sent. */
function review(plan) {
  const from = isRehearsal() ? t("the rehearsal account (nothing is sent to WhatsApp)") : fromText();
  const item = (label, value, testid) => [h("dt", { text: label }), h("dd", { dataset: { testid }, text: value })];
  return h(
    "dl",
    { class: "facts", dataset: { testid: "review" } },
    item(t("To"), plural(recipientCount(), "recipient"), "review-to"),
    item(t("From"), from, "review-from"),
    draft.attachment ? item(t("Attachment"), draft.attachment.name, "review-attachment") : null,
    // A schedule's finish depends on when it runs: only "now" has one to show.
    draft.when === "now" ? item(t("Finishes about"), formatTime(plan.finishEstimateMs, plan.timeZone), "review-finish") : null,
  );
}

export function sendingStep() {
  const plan = view.plan;
  if (!plan) return view.errors.plan ? h("section", { class: "card" }, inlineError(view.errors.plan, "plan-error")) : null;
  return h(
    "section",
    { class: "card stack editor-step", dataset: { testid: "plan", step: "sending" } },
    h("h2", {}, h("span", { class: "step-number", text: "3" }), t("Sending")),
    accountPicker(),
    isRehearsal() ? h("p", { class: "muted", text: t("A rehearsal: messages are written to a log file instead of WhatsApp.") }) : null,
    h("p", { class: "muted", dataset: { testid: "pacing-summary" }, text: t("Pacing: {pacing}", { pacing: pacingSummary(plan) }) }),
    h(
      "p",
      { dataset: { testid: "estimate", zone: plan.timeZone } },
      t("Estimated finish:"),
      " ",
      h("strong", { text: formatTime(plan.finishEstimateMs, plan.timeZone) }),
    ),
    h("p", {
      class: "muted",
      dataset: { testid: "duration" },
      text: t("Sending takes about {duration}.", { duration: formatDuration(Math.max(60000, plan.finishEstimateMs - Date.now())) }),
    }),
    riskList(plan.risks),
    h(
      "label",
      { class: "check" },
      h("input", {
        attrs: { type: "checkbox", checked: draft.checkNumbers ? "checked" : undefined },
        dataset: { testid: "check-numbers" },
        on: {
          change: (e) => {
            draft.checkNumbers = e.target.checked;
            keep();
          },
        },
      }),
      t("First check which numbers are on WhatsApp, and skip the others (checked a few at a time)"),
    ),
    view.editingPacing
      ? pacingForm(plan.pacing, async (next) => {
          await api.setAccountPacing(plan.accountId, next);
          view.editingPacing = false;
          await loadPlan();
          hooks.update();
        })
      : h(
          "button",
          {
            class: "button",
            attrs: { type: "button" },
            dataset: { testid: "change-pacing" },
            on: {
              click: () => {
                view.editingPacing = true;
                hooks.update();
              },
            },
          },
          t("Change pacing…"),
        ),
    whenChoice(plan),
    review(plan),
  );
}

// ----- Sending, scheduling, and the bar that does it -----------------------

async function send() {
  if (view.busy) return;
  view.errors.send = null;
  view.busy = true;
  hooks.update();
  try {
    await api.createBlast({
      name: draft.name.trim() || t("Blast"),
      template: draft.template,
      missing: missingValue(),
      accountId: view.plan?.accountId ?? null,
      checkNumbers: draft.checkNumbers,
      attachmentId: draft.attachment?.id ?? null,
    });
    clearDraft();
    location.hash = "#/blasts";
  } catch (error) {
    view.errors.send = ApiError.from(error);
  } finally {
    view.busy = false;
    hooks.update();
  }
}

async function scheduleBlast() {
  // One schedule per click, however fast the clicks come.
  if (view.busy) return;
  view.errors.send = null;
  try {
    const rule = readRule?.();
    if (!rule) throw new ApiError("invalid_input", t("Choose when to send it."));
    if (draft.files.length > 1) {
      throw new ApiError(
        "invalid_input",
        t("A schedule reads one list again before each run: keep one file, or save the lists as an audience first."),
      );
    }
    const [file] = draft.files;
    const name = draft.name.trim() || t("Blast");
    view.busy = true;
    hooks.update();
    await api.addSchedule(
      {
        name,
        rule,
        timeZone: view.plan?.timeZone ?? "UTC",
        graceSeconds: 3600,
        blast: {
          accountId: view.plan?.accountId,
          name,
          template: draft.template,
          audiences: [...draft.audiences],
          options: { missingValue: missingValue(), checkNumbers: draft.checkNumbers },
        },
        refresh: file?.mapping ? { file: file.name, sheet: null, mapping: file.mapping } : null,
      },
      file?.id ?? null,
      draft.attachment?.id ?? null,
    );
    await scheduleMade();
    clearDraft();
    location.hash = "#/schedules";
  } catch (error) {
    view.errors.send = ApiError.from(error);
  } finally {
    view.busy = false;
    hooks.update();
  }
}

/**
 * The last word before anything is sent: how many, from which number and
 * until when; a rehearsal says plainly that it sends nothing. The app's own
 * dialog, not the browser's.
 */
function confirmSend() {
  const plan = view.plan;
  const n = recipientCount();
  const rehearsal = isRehearsal();
  const from = fromText();
  const finish = plan ? formatTime(plan.finishEstimateMs, plan.timeZone) : "—";
  const name = draft.name.trim() || t("Blast");
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  const cancel = h(
    "button",
    { class: "button", attrs: { type: "button" }, dataset: { testid: "cancel-send" }, on: { click: close } },
    t("Cancel"),
  );
  const dialog = h(
    "dialog",
    {
      class: `card stack confirm-send ${rehearsal ? "is-rehearsal" : "is-real"}`,
      attrs: { "aria-labelledby": "confirm-send-title" },
      dataset: { testid: "send-confirmation", kind: rehearsal ? "rehearsal" : "real" },
    },
    rehearsal ? h("p", { class: "rehearsal-banner", text: t("Rehearsal — nothing is sent") }) : null,
    h("h2", { attrs: { id: "confirm-send-title" }, text: rehearsal ? t("Start the rehearsal?") : t("Send “{name}” now?", { name }) }),
    h("p", {
      dataset: { testid: "confirmation-text" },
      text: rehearsal
        ? t("{count}, made up on the rehearsal account: nothing reaches WhatsApp or any customer.", { count: plural(n, "recipient") })
        : t("To {count} from {from}, one by one; the last one about {finish}. A message that went out cannot be taken back.", {
            count: plural(n, "recipient"),
            from,
            finish,
          }),
    }),
    h(
      "div",
      { class: "row dialog-actions" },
      cancel,
      h(
        "button",
        {
          class: rehearsal ? "button rehearsal-button" : "button primary",
          attrs: { type: "button" },
          dataset: { testid: "confirm-send" },
          on: {
            click: () => {
              close();
              send();
            },
          },
        },
        rehearsal ? t("Start the rehearsal") : t("Send to {count}", { count: plural(n, "recipient") }),
      ),
    ),
  );
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    close();
  });
  document.body.append(dialog);
  dialog.showModal();
  cancel.focus();
}

/** The bar at the bottom of the editor: what pressing its button will do. */
export function actionBar() {
  if (!view.preview) return null;
  const n = recipientCount();
  const rehearsal = isRehearsal();
  const scheduling = draft.when === "schedule";
  const who = plural(n, "customer");
  const name = account()?.name ?? "—";
  const summary = rehearsal
    ? scheduling
      ? t("Schedule a rehearsal with {count}", { count: who })
      : t("Rehearse with {count}", { count: who })
    : scheduling
      ? t("Schedule for {count} from {account}", { count: who, account: name })
      : t("Send to {count} from {account}", { count: who, account: name });
  const blocked = view.busy || !draft.template.trim() || !view.plan || n === 0;
  return h(
    "div",
    { class: `action-bar${rehearsal ? " is-rehearsal" : ""}`, dataset: { testid: "action-bar", kind: rehearsal ? "rehearsal" : "real" } },
    h(
      "div",
      { class: "action-bar-row" },
      h(
        "div",
        { class: "action-summary" },
        rehearsal
          ? h("span", { class: "rehearsal-badge", dataset: { testid: "bar-rehearsal" }, text: t("Rehearsal — nothing is sent") })
          : null,
        h("span", { class: "action-text", dataset: { testid: "action-summary" }, text: summary }),
      ),
      scheduling
        ? h(
            "button",
            {
              class: "button primary",
              attrs: { type: "button", disabled: blocked ? "disabled" : undefined },
              dataset: { testid: "schedule-blast" },
              on: { click: scheduleBlast },
            },
            t("Schedule"),
          )
        : h(
            "button",
            {
              class: rehearsal ? "button rehearsal-button" : "button primary",
              attrs: { type: "button", disabled: blocked ? "disabled" : undefined },
              dataset: { testid: "send-now" },
              on: { click: confirmSend },
            },
            rehearsal ? t("Start the rehearsal") : t("Send now"),
          ),
    ),
    inlineError(view.errors.send, "send-error"),
  );
}
