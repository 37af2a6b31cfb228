// Schedules: blasts that run once or every day, week or month, in a time
// zone, while Blastdesk sits in the tray. Each shows its next run in its own
// zone and in this computer's.

import { locale, t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { emptyState, errorPanel, h, present, screenHeader } from "../view.js";
import { formatTime } from "./pacing-view.js";

/** Short weekday names, Monday first, in the window's language. */
function weekdays() {
  const format = new Intl.DateTimeFormat(locale(), { weekday: "short", timeZone: "UTC" });
  // 1 January 2024 was a Monday.
  return Array.from({ length: 7 }, (_, i) => format.format(new Date(Date.UTC(2024, 0, 1 + i))));
}
let schedules = [];
let accounts = [];
let audiences = [];
let here = "UTC";
let notice = null;
let root = null;
let editing = null; // the schedule being edited, or null for a new one
let linked = null; // {id, name}: a chosen spreadsheet to read before each run
let dropLinked = false; // editing: stop reading the schedule's spreadsheet

api.on("schedule", () => reload());

function describeRule(rule) {
  switch (rule.repeat) {
    case "once":
      return t("Once, on {date} at {time}", { date: rule.date, time: rule.time });
    case "daily":
      return t("Every day at {time}", { time: rule.time });
    case "weekly":
      return t("Every {days} at {time}", { days: rule.days.map((d) => weekdays()[d - 1]).join(", "), time: rule.time });
    case "monthly":
      return t("Every month on day {day} at {time}", { day: rule.day, time: rule.time });
    default:
      return "";
  }
}

async function reload() {
  try {
    schedules = await api.listSchedules();
  } catch (error) {
    notice = ApiError.from(error);
  }
  update();
}

async function act(action) {
  notice = null;
  try {
    await action();
  } catch (error) {
    notice = ApiError.from(error);
  }
  await reload();
}

function card(schedule) {
  const next = schedule.nextRunAt;
  const nextText = next
    ? schedule.timeZone === here
      ? formatTime(next, schedule.timeZone)
      : `${formatTime(next, schedule.timeZone)} · ${formatTime(next, here)}`
    : t("no next run");
  return h(
    "article",
    { class: "card", dataset: { testid: "schedule-card", scheduleId: String(schedule.id), enabled: String(schedule.enabled) } },
    h("header", { class: "row" }, h("h2", { text: schedule.name }), schedule.enabled ? null : h("span", { class: "badge badge-paused", text: t("Paused") })),
    h("p", { text: describeRule(schedule.rule) + ` (${schedule.timeZone})` }),
    h("p", { class: "muted", dataset: { testid: "next-run" }, text: t("Next run: {time}", { time: nextText }) }),
    schedule.refresh ? h("p", { class: "muted", text: t("Reads {file} again before each run.", { file: schedule.refresh.file }) }) : null,
    h(
      "div",
      { class: "row actions" },
      schedule.enabled
        ? h("button", { class: "button", attrs: { type: "button" }, dataset: { testid: "pause-schedule" }, on: { click: () => act(() => api.setScheduleEnabled(schedule.id, false)) } }, t("Pause"))
        : h("button", { class: "button primary", attrs: { type: "button" }, dataset: { testid: "resume-schedule" }, on: { click: () => act(() => api.setScheduleEnabled(schedule.id, true)) } }, t("Resume")),
      h("button", { class: "button", attrs: { type: "button" }, dataset: { testid: "edit-schedule" }, on: { click: () => { editing = schedule; linked = null; dropLinked = false; update(); root?.querySelector("#schedule-name")?.focus(); } } }, t("Edit")),
      h("button", { class: "button danger", attrs: { type: "button" }, on: { click: () => { if (confirm(t("Delete “{name}”? The blasts it made stay.", { name: schedule.name }))) act(() => api.removeSchedule(schedule.id)); } } }, t("Delete")),
    ),
  );
}

function form() {
  const e = editing;
  const rule = e?.spec?.rule ?? e?.rule;
  const spec = e ? { name: e.name, timeZone: e.timeZone, blast: e.blast, rule: e.rule, refresh: e.refresh } : null;
  const field = (label, input) => h("div", { class: "form-row" }, h("label", { attrs: { for: input.id }, text: label }), input);
  const name = h("input", { attrs: { id: "schedule-name", type: "text", placeholder: t("Monday promo"), value: spec?.name ?? "" } });
  const account = h(
    "select",
    { attrs: { id: "schedule-account" } },
    accounts.map((a) => h("option", { attrs: { value: String(a.id), selected: spec?.blast.accountId === a.id ? "selected" : undefined }, text: a.kind === "simulated" ? t("{name} (rehearsal)", { name: a.name }) : a.name })),
  );
  const template = h("textarea", { attrs: { id: "schedule-template", rows: "3", placeholder: "Halo {Nama}, ..." } });
  template.value = spec?.blast.template ?? "";
  const repeat = h(
    "select",
    { attrs: { id: "schedule-repeat" } },
    ["daily", "weekly", "monthly", "once"].map((r) => h("option", { attrs: { value: r, selected: rule?.repeat === r ? "selected" : undefined }, text: { daily: t("Every day"), weekly: t("Every week"), monthly: t("Every month"), once: t("Once") }[r] })),
  );
  const time = h("input", { attrs: { id: "schedule-time", type: "time", value: rule?.time ?? "09:00" } });
  const date = h("input", { attrs: { id: "schedule-date", type: "date", value: rule?.date ?? "" } });
  const day = h("input", { attrs: { id: "schedule-day", type: "number", min: "1", max: "31", value: String(rule?.day ?? 1) } });
  const days = weekdays().map((d, i) => h("label", { class: "check" }, h("input", { attrs: { type: "checkbox", value: String(i + 1), checked: rule?.days?.includes(i + 1) ? "checked" : undefined }, dataset: { weekday: String(i + 1) } }), d));
  const zone = h("input", { attrs: { id: "schedule-zone", type: "text", value: spec?.timeZone ?? here } });
  const picks = audiences.map((a) => h("label", { class: "check" }, h("input", { attrs: { type: "checkbox", value: a.name, checked: spec?.blast.audiences.includes(a.name) ? "checked" : undefined }, dataset: { audience: a.name } }), a.name));
  // Redrawn in place, so choosing a file keeps what was typed in the form.
  let linkedRow;
  const drawLinked = () => {
    const current = linked?.name ?? (!dropLinked && spec?.refresh ? spec.refresh.file : null);
    const fresh = h(
      "div",
      { class: "row" },
      current ? h("span", { dataset: { testid: "linked-file" }, text: t("Read again before each run: {file}", { file: current }) }) : h("span", { class: "muted", text: t("No spreadsheet is read before each run.") }),
      h("button", { class: "button", attrs: { type: "button" }, dataset: { testid: "choose-linked" }, on: { click: async () => {
        try {
          const [file] = await api.pickFiles();
          if (file) { linked = file; dropLinked = false; drawLinked(); }
        } catch (error) { notice = ApiError.from(error); update(); }
      } } }, t("Choose a spreadsheet…")),
      current ? h("button", { class: "button link", attrs: { type: "button" }, on: { click: () => { linked = null; dropLinked = true; drawLinked(); } } }, t("Remove")) : null,
    );
    linkedRow?.replaceWith(fresh);
    linkedRow = fresh;
  };
  drawLinked();
  const element = h(
    "form",
    { class: "card stack", dataset: { testid: "schedule-form" } },
    h("h2", { text: editing ? t("Edit “{name}”", { name: editing.name }) : t("Schedule a blast") }),
    field(t("Name"), name),
    field(t("Send from"), account),
    h("fieldset", {}, h("legend", { text: t("To") }), picks.length ? picks : h("p", { class: "muted", text: t("Save an audience on the Audiences screen first.") })),
    linkedRow,
    field(t("Message"), template),
    field(t("Repeat"), repeat),
    field(t("At"), time),
    field(t("On (once)"), date),
    h("fieldset", {}, h("legend", { text: t("On these days (weekly)") }), days),
    field(t("Day of the month (monthly)"), day),
    field(t("Time zone"), zone),
  );
  element.append(
    h(
      "div",
      { class: "row" },
      h("button", { class: "button primary", attrs: { type: "submit" }, dataset: { testid: "save-schedule" } }, editing ? t("Save") : t("Schedule")),
      editing ? h("button", { class: "button link", attrs: { type: "button" }, on: { click: () => { editing = null; linked = null; update(); } } }, t("Cancel")) : null,
    ),
  );
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    const kind = repeat.value;
    const next = { repeat: kind, time: time.value };
    if (kind === "once") next.date = date.value;
    if (kind === "weekly") next.days = days.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => Number(i.value));
    if (kind === "monthly") next.day = Number(day.value);
    const chosen = picks.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const newSpec = {
      name: name.value,
      rule: next,
      timeZone: zone.value.trim(),
      graceSeconds: editing?.graceSeconds ?? 3600,
      blast: { accountId: Number(account.value), name: name.value, template: template.value, audiences: chosen, options: editing?.blast.options ?? {} },
      refresh: null,
    };
    const fileId = linked?.id ?? null;
    const wasEditing = editing;
    act(async () => {
      if (wasEditing) await api.updateSchedule(wasEditing.id, newSpec, fileId, !dropLinked);
      else await api.addSchedule(newSpec, fileId);
      editing = null;
      linked = null;
      dropLinked = false;
    });
  });
  return element;
}

function render() {
  return h(
    "div",
    { class: "stack" },
    screenHeader(t("Schedules"), t("Blasts that run by themselves, in your time zone.")),
    ...present(
      notice ? errorPanel(notice) : null,
      schedules.length === 0
        ? emptyState({
            title: t("Nothing scheduled"),
            body: t("Schedule a blast for a date and time, or to repeat every day, week or month. Blastdesk runs it from the tray, even with its window closed."),
            points: [t("Times are in your own time zone, shown by name"), t("A run missed while the computer was off is reported, never sent late in a burst")],
          })
        : h("div", { class: "stack", dataset: { testid: "schedule-list" } }, schedules.map(card)),
      accounts.length ? form() : h("p", { class: "muted", text: t("Add an account (or send a rehearsal) before scheduling.") }),
    ),
  );
}

function update() {
  if (root?.isConnected) root.replaceChildren(render());
}

export default {
  id: "schedules",
  get title() {
    return t("Schedules");
  },
  async render() {
    try {
      [schedules, accounts, audiences, here] = await Promise.all([
        api.listSchedules(),
        api.listAccounts(),
        api.listAudiences(),
        api.computerTimeZone(),
      ]);
    } catch (error) {
      return errorPanel(ApiError.from(error));
    }
    root = h("div", {});
    root.replaceChildren(render());
    return root;
  },
};
