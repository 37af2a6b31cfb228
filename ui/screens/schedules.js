// Schedules: blasts that run once or every day, week or month, in a time
// zone, while Blastdesk sits in the tray. Each shows its next run in its own
// zone and in this computer's.

import { api, ApiError } from "../api.js";
import { emptyState, errorPanel, h, present, screenHeader } from "../view.js";
import { formatTime } from "./pacing-view.js";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
let schedules = [];
let accounts = [];
let audiences = [];
let here = "UTC";
let notice = null;
let root = null;

api.on("schedule", () => reload());

function describeRule(rule) {
  switch (rule.repeat) {
    case "once":
      return `Once, on ${rule.date} at ${rule.time}`;
    case "daily":
      return `Every day at ${rule.time}`;
    case "weekly":
      return `Every ${rule.days.map((d) => DAYS[d - 1]).join(", ")} at ${rule.time}`;
    case "monthly":
      return `Every month on day ${rule.day} at ${rule.time}`;
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
    : "no next run";
  return h(
    "article",
    { class: "card", dataset: { testid: "schedule-card", scheduleId: String(schedule.id), enabled: String(schedule.enabled) } },
    h("header", { class: "row" }, h("h2", { text: schedule.name }), schedule.enabled ? null : h("span", { class: "badge badge-paused", text: "Paused" })),
    h("p", { text: describeRule(schedule.rule) + ` (${schedule.timeZone})` }),
    h("p", { class: "muted", dataset: { testid: "next-run" }, text: `Next run: ${nextText}` }),
    schedule.refresh ? h("p", { class: "muted", text: `Reads ${schedule.refresh.file} again before each run.` }) : null,
    h(
      "div",
      { class: "row actions" },
      schedule.enabled
        ? h("button", { class: "button", attrs: { type: "button" }, dataset: { testid: "pause-schedule" }, on: { click: () => act(() => api.setScheduleEnabled(schedule.id, false)) } }, "Pause")
        : h("button", { class: "button primary", attrs: { type: "button" }, dataset: { testid: "resume-schedule" }, on: { click: () => act(() => api.setScheduleEnabled(schedule.id, true)) } }, "Resume"),
      h("button", { class: "button danger", attrs: { type: "button" }, on: { click: () => { if (confirm(`Delete “${schedule.name}”? The blasts it made stay.`)) act(() => api.removeSchedule(schedule.id)); } } }, "Delete"),
    ),
  );
}

function form() {
  const field = (label, input) => h("div", { class: "form-row" }, h("label", { attrs: { for: input.id }, text: label }), input);
  const name = h("input", { attrs: { id: "schedule-name", type: "text", placeholder: "Monday promo" } });
  const account = h(
    "select",
    { attrs: { id: "schedule-account" } },
    accounts.map((a) => h("option", { attrs: { value: String(a.id) }, text: a.kind === "simulated" ? `${a.name} (rehearsal)` : a.name })),
  );
  const template = h("textarea", { attrs: { id: "schedule-template", rows: "3", placeholder: "Halo {Nama}, ..." } });
  const repeat = h(
    "select",
    { attrs: { id: "schedule-repeat" } },
    ["daily", "weekly", "monthly", "once"].map((r) => h("option", { attrs: { value: r }, text: { daily: "Every day", weekly: "Every week", monthly: "Every month", once: "Once" }[r] })),
  );
  const time = h("input", { attrs: { id: "schedule-time", type: "time", value: "09:00" } });
  const date = h("input", { attrs: { id: "schedule-date", type: "date" } });
  const day = h("input", { attrs: { id: "schedule-day", type: "number", min: "1", max: "31", value: "1" } });
  const days = DAYS.map((d, i) => h("label", { class: "check" }, h("input", { attrs: { type: "checkbox", value: String(i + 1) }, dataset: { weekday: String(i + 1) } }), d));
  const zone = h("input", { attrs: { id: "schedule-zone", type: "text", value: here } });
  const picks = audiences.map((a) => h("label", { class: "check" }, h("input", { attrs: { type: "checkbox", value: a.name }, dataset: { audience: a.name } }), a.name));
  const element = h(
    "form",
    { class: "card stack", dataset: { testid: "schedule-form" } },
    h("h2", { text: "Schedule a blast" }),
    field("Name", name),
    field("Send from", account),
    h("fieldset", {}, h("legend", { text: "To" }), picks.length ? picks : h("p", { class: "muted", text: "Save an audience on the Audiences screen first." })),
    field("Message", template),
    field("Repeat", repeat),
    field("At", time),
    field("On (once)", date),
    h("fieldset", {}, h("legend", { text: "On these days (weekly)" }), days),
    field("Day of the month (monthly)", day),
    field("Time zone", zone),
  );
  element.append(h("button", { class: "button primary", attrs: { type: "submit" }, dataset: { testid: "save-schedule" } }, "Schedule"));
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    const kind = repeat.value;
    const rule = { repeat: kind, time: time.value };
    if (kind === "once") rule.date = date.value;
    if (kind === "weekly") rule.days = days.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => Number(i.value));
    if (kind === "monthly") rule.day = Number(day.value);
    const chosen = picks.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    act(() =>
      api.addSchedule({
        name: name.value,
        rule,
        timeZone: zone.value.trim(),
        graceSeconds: 3600,
        blast: { accountId: Number(account.value), name: name.value, template: template.value, audiences: chosen, options: {} },
        refresh: null,
      }),
    );
  });
  return element;
}

function render() {
  return h(
    "div",
    { class: "stack" },
    screenHeader("Schedules", "Blasts that run by themselves, in your time zone."),
    ...present(
      notice ? errorPanel(notice) : null,
      schedules.length === 0
        ? emptyState({
            title: "Nothing scheduled",
            body: "Schedule a blast for a date and time, or to repeat every day, week or month. Blastdesk runs it from the tray, even with its window closed.",
            points: ["Times are in your own time zone, shown by name", "A run missed while the computer was off is reported, never sent late in a burst"],
          })
        : h("div", { class: "stack", dataset: { testid: "schedule-list" } }, schedules.map(card)),
      accounts.length ? form() : h("p", { class: "muted", text: "Add an account (or send a rehearsal) before scheduling." }),
    ),
  );
}

function update() {
  if (root?.isConnected) root.replaceChildren(render());
}

export default {
  id: "schedules",
  title: "Schedules",
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
