// Pieces shared by the screens that talk about pacing and time.

import { h } from "../view.js";

/** An instant in a time zone, in the person's locale, with the zone's name. */
export function formatTime(ms, timeZone) {
  if (ms === null || ms === undefined) return "—";
  try {
    const text = new Intl.DateTimeFormat(undefined, {
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
  delay: "a pause between messages",
  batch_rest: "a rest after a batch",
  per_minute_limit: "the per-minute limit",
  hourly_cap: "the hourly cap",
  daily_cap: "today's cap is reached",
  outside_window: "outside the sending hours",
};
