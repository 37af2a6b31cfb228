// Pieces shared by the screens that talk about pacing and time.

import { N_, locale, t } from "../i18n.js";
import { h } from "../view.js";

/** An instant in a time zone, in the person's locale, with the zone's name. */
export function formatTime(ms, timeZone) {
  if (ms === null || ms === undefined) return "—";
  try {
    const text = new Intl.DateTimeFormat(locale(), {
      dateStyle: "medium",
      timeStyle: "short",
      timeZone,
    }).format(new Date(ms));
    return timeZone ? `${text} (${timeZone})` : text;
  } catch {
    return new Date(ms).toLocaleString();
  }
}

/** The warnings for risky pacing settings, or nothing. */
export function riskList(risks) {
  if (!risks?.length) return null;
  return h(
    "ul",
    { class: "risks", attrs: { role: "note" }, dataset: { testid: "risks" } },
    risks.map((risk) => h("li", { dataset: { code: risk.code }, text: risk.message })),
  );
}

/** Why the next message waits, in words. */
export const WAIT_REASONS = {
  delay: N_("a pause between messages"),
  batch_rest: N_("a rest after a batch"),
  per_minute_limit: N_("the per-minute limit"),
  hourly_cap: N_("the hourly cap"),
  daily_cap: N_("today's cap is reached"),
  outside_window: N_("outside the sending hours"),
};

/** The settings the pacing form edits: [key, label, unit]. */
const NUMBERS = [
  ["minDelayS", "Shortest wait between messages", "s"],
  ["maxDelayS", "Longest wait between messages", "s"],
  ["batchMin", "Rest after at least", "messages"],
  ["batchMax", "… and at most", "messages"],
  ["restMinS", "Shortest rest", "s"],
  ["restMaxS", "Longest rest", "s"],
  ["perMinute", "At most per minute", "messages"],
  ["hourlyCap", "At most per hour (0: no cap)", "messages"],
  ["dailyCap", "At most per day (0: no cap)", "messages"],
  ["warmUpDays", "Warm-up for a new number (0: none)", "days"],
  ["errorStreak", "Pause after this many failures in a row (0: never)", "failures"],
];

/**
 * A form for an account's pacing. `onSave(pacing)` resolves when saved; it
 * may throw an ApiError, shown in the form.
 */
export function pacingForm(pacing, onSave) {
  const inputs = {};
  const error = h("p", { class: "error-text", attrs: { role: "alert" }, dataset: { testid: "pacing-error" } });
  const enabled = h("input", { attrs: { type: "checkbox", checked: pacing.enabled ? "checked" : undefined }, dataset: { field: "enabled" } });
  const windowOn = h("input", { attrs: { type: "checkbox", checked: pacing.window ? "checked" : undefined }, dataset: { field: "window" } });
  const start = h("input", { attrs: { type: "time", value: pacing.window?.start ?? "09:00", "aria-label": "Sending starts at" }, dataset: { field: "start" } });
  const end = h("input", { attrs: { type: "time", value: pacing.window?.end ?? "20:00", "aria-label": "Sending ends at" }, dataset: { field: "end" } });
  const rows = NUMBERS.map(([key, label, unit]) => {
    const id = `pacing-${key}`;
    inputs[key] = h("input", { attrs: { id, type: "number", min: "0", step: "1", value: String(pacing[key]) }, dataset: { field: key } });
    return h("div", { class: "form-row" }, h("label", { attrs: { for: id }, text: label }), inputs[key], h("span", { class: "muted", text: unit }));
  });
  const form = h(
    "form",
    { class: "pacing-form stack", dataset: { testid: "pacing-form" } },
    h("label", { class: "check" }, enabled, "Pace messages (turn off only for rehearsals)"),
    rows,
    h("div", { class: "form-row" }, h("label", { class: "check" }, windowOn, "Send only between"), start, h("span", { text: "and" }), end),
    error,
    h("button", { class: "button primary", attrs: { type: "submit" }, dataset: { testid: "save-pacing" } }, "Save pacing"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const next = { ...pacing, enabled: enabled.checked, window: windowOn.checked ? { start: start.value, end: end.value } : null };
    for (const [key] of NUMBERS) {
      const value = Number(inputs[key].value);
      if (!Number.isInteger(value) || value < 0) {
        error.textContent = `“${inputs[key].labels?.[0]?.textContent ?? key}” must be a whole number, 0 or more.`;
        inputs[key].focus();
        return;
      }
      next[key] = value;
    }
    error.textContent = "";
    try {
      await onSave(next);
    } catch (e) {
      error.textContent = e.message;
    }
  });
  return form;
}
