// When a blast is sent on a schedule: the next free slot inside a number's
// sending hours, times in 24-hour style, and the fields of a rule (only those
// its repeat needs). Shared by New blast and the Schedules screen.

import { N_, currentLanguage, locale, t } from "../../i18n.js";
import { api, ApiError } from "../../api.js";
import { h } from "../../view.js";
import { zoneName } from "../../format.js";

/** The local date ("2026-12-03") and minute of the day in a zone, now. */
export function localNow(timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(new Date())
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

function addDays(date, n) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

const minutesOf = (hhmm) => {
  const [hh, mm] = String(hhmm).split(":").map(Number);
  return hh * 60 + mm;
};
const hhmm = (minutes) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

/**
 * The next free slot: a quarter hour at least ten minutes ahead, inside the
 * account's sending hours (their start tomorrow when today's are over).
 */
export function nextSlot(pacing, timeZone) {
  const now = localNow(timeZone);
  const window = pacing?.enabled && pacing.window ? pacing.window : null;
  const start = window ? minutesOf(window.start) : 0;
  const end = window ? minutesOf(window.end) : 24 * 60;
  // Hours that pass midnight (22:00 to 06:00) are inside before their end too.
  const inside = (m) => start === end || (start < end ? m >= start && m < end : m >= start || m < end);
  let date = now.date;
  let at = Math.ceil((now.minutes + 10) / 15) * 15;
  if (at >= 24 * 60) {
    date = addDays(date, 1);
    at -= 24 * 60;
  }
  if (!inside(at)) {
    // Before the hours start: their start on that day; after they ended: tomorrow's.
    if (at >= start) date = addDays(date, 1);
    at = start;
  }
  return { date, time: hhmm(at) };
}

/** ISO weekday (1 = Monday) of a date. */
export function weekday(date) {
  const [y, m, d] = date.split("-").map(Number);
  return ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7) + 1;
}

/** A time as the window's language writes it: "14.05" in Indonesian. */
export function timeText(value) {
  return currentLanguage() === "id" ? value.replace(":", ".") : value;
}

/** "14.05", "14:05", "9.05" → "14:05" or "09:05"; null when it is no time of day. */
export function parseTime(text) {
  const match = /^\s*(\d{1,2})[.:](\d{2})\s*$/.exec(text ?? "");
  if (!match) return null;
  const [hours, minutes] = [Number(match[1]), Number(match[2])];
  if (hours > 23 || minutes > 59) return null;
  return hhmm(hours * 60 + minutes);
}

/** Short weekday names, Monday first, in the window's language. */
export function weekdayNames(style = "short") {
  const format = new Intl.DateTimeFormat(locale(), { weekday: style, timeZone: "UTC" });
  // 1 January 2024 was a Monday.
  return Array.from({ length: 7 }, (_, i) => format.format(new Date(Date.UTC(2024, 0, 1 + i))));
}

function longDate(date) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date ?? "")) return "";
  const [y, m, d] = date.split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

const REPEATS = { once: N_("Once"), daily: N_("Every day"), weekly: N_("Every week"), monthly: N_("Every month") };

/**
 * The fields of a schedule's rule: only those its repeat needs. Returns the
 * element and `read()`, which gives the rule or throws an ApiError.
 */
export function ruleFields(rule, { timeZone, onChange = () => {}, zonePicker = null }) {
  const current = { repeat: rule.repeat, date: rule.date, time: rule.time, days: [...(rule.days ?? [])], day: rule.day ?? 1 };
  const box = h("div", { class: "rule-fields stack", dataset: { testid: "rule-fields", repeat: current.repeat } });
  const changed = () => onChange({ ...current });
  const draw = () => {
    box.dataset.repeat = current.repeat;
    const repeat = h(
      "select",
      {
        attrs: { id: "schedule-repeat" },
        dataset: { testid: "schedule-repeat" },
        on: {
          change: (e) => {
            current.repeat = e.target.value;
            changed();
            draw();
          },
        },
      },
      Object.entries(REPEATS).map(([value, label]) =>
        h("option", { attrs: { value, selected: current.repeat === value ? "selected" : undefined }, text: t(label) }),
      ),
    );
    const time = h("input", {
      attrs: {
        id: "schedule-time",
        type: "text",
        inputmode: "numeric",
        autocomplete: "off",
        size: "6",
        value: timeText(current.time ?? "09:00"),
        placeholder: timeText("14:05"),
        "aria-label": t("Time (24-hour)"),
      },
      dataset: { testid: "schedule-time" },
      on: {
        input: (e) => {
          const parsed = parseTime(e.target.value);
          if (parsed) {
            current.time = parsed;
            changed();
          }
        },
      },
    });
    const zone =
      zonePicker ??
      h("span", { class: "zone-name", dataset: { testid: "schedule-zone-name" }, attrs: { title: timeZone }, text: zoneName(timeZone) });
    const field = (label, input, id) => h("div", { class: "form-row" }, h("label", { attrs: { for: id }, text: label }), input);
    const parts = [field(t("Repeat"), repeat, "schedule-repeat")];
    if (current.repeat === "once") {
      const dayText = h("span", { class: "muted", dataset: { testid: "schedule-date-text" }, text: longDate(current.date) });
      const date = h("input", {
        attrs: { id: "schedule-date", type: "date", value: current.date ?? "", min: localNow(timeZone).date, "aria-label": t("Date") },
        dataset: { testid: "schedule-date" },
        on: {
          input: (e) => {
            current.date = e.target.value;
            dayText.textContent = longDate(current.date);
            changed();
          },
        },
      });
      parts.push(
        h(
          "div",
          { class: "form-row" },
          h("label", { attrs: { for: "schedule-date" }, text: t("Date") }),
          h("span", { class: "row" }, date, dayText),
        ),
      );
    }
    if (current.repeat === "weekly") {
      parts.push(
        h(
          "fieldset",
          { class: "weekdays", dataset: { testid: "schedule-weekdays" } },
          h("legend", { text: t("On these days") }),
          weekdayNames().map((name, i) =>
            h(
              "label",
              { class: "check weekday" },
              h("input", {
                attrs: { type: "checkbox", value: String(i + 1), checked: current.days.includes(i + 1) ? "checked" : undefined },
                dataset: { weekday: String(i + 1) },
                on: {
                  change: (e) => {
                    current.days = e.target.checked
                      ? [...new Set([...current.days, i + 1])].sort()
                      : current.days.filter((d) => d !== i + 1);
                    changed();
                  },
                },
              }),
              name,
            ),
          ),
        ),
      );
    }
    if (current.repeat === "monthly") {
      const day = h(
        "select",
        {
          attrs: { id: "schedule-day" },
          dataset: { testid: "schedule-day" },
          on: {
            change: (e) => {
              current.day = Number(e.target.value);
              changed();
            },
          },
        },
        Array.from({ length: 31 }, (_, i) =>
          h("option", { attrs: { value: String(i + 1), selected: current.day === i + 1 ? "selected" : undefined }, text: String(i + 1) }),
        ),
      );
      parts.push(field(t("Day of the month"), day, "schedule-day"));
      if (current.day > 28) parts.push(h("p", { class: "muted small", text: t("In a shorter month: on its last day.") }));
    }
    parts.push(
      h(
        "div",
        { class: "form-row" },
        h("label", { attrs: { for: "schedule-time" }, text: t("Time") }),
        h("span", { class: "row" }, time, zone),
      ),
    );
    box.replaceChildren(...parts);
  };
  draw();
  const read = () => {
    // Read from the fields: what is in them is what the person sees.
    const time = parseTime(box.querySelector("#schedule-time")?.value);
    if (!time) throw new ApiError("invalid_input", t("Write the time as {example} (24-hour).", { example: timeText("14:05") }));
    const rule = { repeat: current.repeat, time };
    if (current.repeat === "once") {
      rule.date = box.querySelector("#schedule-date")?.value ?? "";
      if (!rule.date) throw new ApiError("invalid_input", t("Choose the date."));
    }
    if (current.repeat === "weekly") {
      rule.days = [...box.querySelectorAll("input[data-weekday]")].filter((i) => i.checked).map((i) => Number(i.value));
      if (!rule.days.length) throw new ApiError("invalid_input", t("Choose at least one day of the week."));
    }
    if (current.repeat === "monthly") rule.day = Number(box.querySelector("#schedule-day")?.value ?? current.day);
    return rule;
  };
  return { element: box, read };
}

/** "Every Mon, Thu at 14.05": a rule in words. */
export function describeRule(rule) {
  const time = timeText(rule.time);
  switch (rule.repeat) {
    case "once":
      return t("Once, on {date} at {time}", { date: longDate(rule.date), time });
    case "daily":
      return t("Every day at {time}", { time });
    case "weekly":
      return t("Every {days} at {time}", { days: rule.days.map((d) => weekdayNames()[d - 1]).join(", "), time });
    case "monthly":
      return t("Every month on day {day} at {time}", { day: rule.day, time });
    default:
      return "";
  }
}

/**
 * After a schedule was made: the first one switches Start at login on (a
 * schedule runs from the tray), and says so; nothing when it was on already.
 * Resolves to the notice to show, or null.
 */
export async function scheduleMade() {
  try {
    const [schedules, starts] = await Promise.all([api.listSchedules(), api.startAtLogin()]);
    if (schedules.length !== 1 || starts) return null;
    await api.setStartAtLogin(true);
    pendingNotice = t("Blastdesk now starts in the tray when you log in, so your schedules run. You can change this in Settings.");
  } catch {
    // Not being able to switch it on leaves the schedule as it is.
  }
  return pendingNotice;
}

let pendingNotice = null;
/** The notice of the last `scheduleMade`, once. */
export function takeNotice() {
  const notice = pendingNotice;
  pendingNotice = null;
  return notice;
}
