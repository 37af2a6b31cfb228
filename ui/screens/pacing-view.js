// Pieces shared by the screens that talk about pacing and time.

import { N_, t } from "../i18n.js";
import { h } from "../view.js";

/** An instant in a time zone (kept here for the screens that import it from here). */
export { formatTime } from "../format.js";

/** The core's risk warnings by code, so they can be shown translated. */
const RISKS = {
  pacing_off: N_("Pacing is off: messages go out as fast as possible. Use this only for rehearsals."),
  short_delay: N_("Less than 15 seconds between messages: accounts have been banned at 7 to 13 seconds."),
  regular_delay: N_("The delay barely varies: WhatsApp spots messages sent at fixed intervals."),
  high_daily_cap: N_("More than 500 messages a day (or no daily cap): numbers are often banned at such volumes."),
  high_hourly_cap: N_("More than 180 messages an hour (or no hourly cap) is a pattern WhatsApp bans."),
  no_rest: N_("Without regular rests between batches, sending looks automated."),
  no_warm_up: N_("No warm-up: a newly linked number sending its full daily cap at once is at risk."),
  no_window: N_("No sending window: messages at night get reported by recipients, which leads to bans."),
  no_error_stop: N_("Blasts will not pause on a run of errors, which can be the first sign of a ban."),
};

/** The warnings for risky pacing settings, or nothing. */
export function riskList(risks) {
  if (!risks?.length) return null;
  return h(
    "ul",
    { class: "risks", attrs: { role: "note" }, dataset: { testid: "risks" } },
    risks.map((risk) => h("li", { dataset: { code: risk.code }, text: RISKS[risk.code] ? t(RISKS[risk.code]) : risk.message })),
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
  ["minDelayS", N_("Shortest wait between messages"), N_("s")],
  ["maxDelayS", N_("Longest wait between messages"), N_("s")],
  ["batchMin", N_("Rest after at least"), N_("messages")],
  ["batchMax", N_("… and at most"), N_("messages")],
  ["restMinS", N_("Shortest rest"), N_("s")],
  ["restMaxS", N_("Longest rest"), N_("s")],
  ["perMinute", N_("At most per minute"), N_("messages")],
  ["hourlyCap", N_("At most per hour (0: no cap)"), N_("messages")],
  ["dailyCap", N_("At most per day (0: no cap)"), N_("messages")],
  ["warmUpDays", N_("Warm-up for a new number (0: none)"), N_("days")],
  ["errorStreak", N_("Pause after this many failures in a row (0: never)"), N_("failures")],
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
  const start = h("input", { attrs: { type: "time", value: pacing.window?.start ?? "09:00", "aria-label": t("Sending starts at") }, dataset: { field: "start" } });
  const end = h("input", { attrs: { type: "time", value: pacing.window?.end ?? "20:00", "aria-label": t("Sending ends at") }, dataset: { field: "end" } });
  const rows = NUMBERS.map(([key, label, unit]) => {
    const id = `pacing-${key}`;
    inputs[key] = h("input", { attrs: { id, type: "number", min: "0", step: "1", value: String(pacing[key]) }, dataset: { field: key } });
    return h("div", { class: "form-row" }, h("label", { attrs: { for: id }, text: t(label) }), inputs[key], h("span", { class: "muted", text: t(unit) }));
  });
  const form = h(
    "form",
    { class: "pacing-form stack", dataset: { testid: "pacing-form" } },
    h("label", { class: "check" }, enabled, t("Pace messages (turn off only for rehearsals)")),
    rows,
    h("div", { class: "form-row" }, h("label", { class: "check" }, windowOn, t("Send only between")), start, h("span", { text: t("and") }), end),
    error,
    h("button", { class: "button primary", attrs: { type: "submit" }, dataset: { testid: "save-pacing" } }, t("Save pacing")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const next = { ...pacing, enabled: enabled.checked, window: windowOn.checked ? { start: start.value, end: end.value } : null };
    for (const [key] of NUMBERS) {
      const value = Number(inputs[key].value);
      if (!Number.isInteger(value) || value < 0) {
        error.textContent = t("“{field}” must be a whole number, 0 or more.", { field: inputs[key].labels?.[0]?.textContent ?? key });
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
