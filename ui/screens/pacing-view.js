// Pieces shared by the screens that talk about pacing and time.

import { N_, t } from "../i18n.js";
import { api } from "../api.js";
import { count, h } from "../view.js";
import { parseTime, timeText } from "./new-blast/when.js";

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

// The presets come from the core (Pacing::preset), read once.
let presets = null;
const presetsLoaded = api
  .pacingPresets()
  .then((list) => (presets = list))
  .catch(() => (presets = []));

/** What each preset is called and whom it suits, by its code. */
const PRESETS = {
  safe: { name: N_("Safe"), suits: N_("For a new number, a first blast, or customers who have not heard from you for a while.") },
  normal: { name: N_("Normal"), suits: N_("For a number in everyday use.") },
  fast: { name: N_("Fast"), suits: N_("For a number that has sent for weeks, to customers who know your shop.") },
};

const KEYS = [
  "enabled",
  "minDelayS",
  "maxDelayS",
  "batchMin",
  "batchMax",
  "restMinS",
  "restMaxS",
  "perMinute",
  "hourlyCap",
  "dailyCap",
  "warmUpDays",
  "errorStreak",
];

/** Whether two pacing settings are the same. */
function same(a, b) {
  return (
    KEYS.every((key) => a[key] === b[key]) &&
    (a.window?.start ?? null) === (b.window?.start ?? null) &&
    (a.window?.end ?? null) === (b.window?.end ?? null)
  );
}

/** The preset these settings are, or "custom". */
function presetOf(pacing) {
  return presets?.find((p) => same(p.pacing, pacing))?.preset ?? "custom";
}

/** "About 30 messages an hour, at most 100 a day, from 09:00 to 19:00." */
export function pacingMeaning(preset) {
  const p = preset.pacing;
  return t("About {n} messages an hour, at most {daily} a day, from {start} to {end}.", {
    n: count(preset.perHour ?? 0),
    daily: count(p.dailyCap),
    start: p.window?.start ?? "00:00",
    end: p.window?.end ?? "24:00",
  });
}

/**
 * The detailed settings Custom shows, by key: [the field's name, how many
 * of the stored unit one shown unit is (60: stored in seconds, shown in
 * minutes)].
 */
const FIELDS = {
  minDelayS: [N_("Shortest wait between messages, in seconds"), 1],
  maxDelayS: [N_("Longest wait between messages, in seconds"), 1],
  restMinS: [N_("Shortest rest, in minutes"), 60],
  restMaxS: [N_("Longest rest, in minutes"), 60],
  batchMin: [N_("Fewest messages between rests"), 1],
  batchMax: [N_("Most messages between rests"), 1],
  hourlyCap: [N_("At most per hour (0: no cap)"), 1],
  dailyCap: [N_("At most per day (0: no cap)"), 1],
  warmUpDays: [N_("Warm-up for a new number (0: none)"), 1],
  errorStreak: [N_("Pause after this many failures in a row (0: never)"), 1],
};

/**
 * A form for an account's pacing: a preset (Safe, Normal, Fast) with what
 * it means, or Custom, which shows the detailed settings (rests in
 * minutes). `onSave(pacing)` resolves when saved; it may throw an ApiError,
 * shown in the form.
 */
export function pacingForm(pacing, onSave) {
  const form = h("form", { class: "pacing-form stack", dataset: { testid: "pacing-form" } });
  const draw = () => form.replaceChildren(...pacingFields(form, pacing, onSave));
  if (presets) draw();
  else {
    form.append(h("p", { class: "muted", text: t("Loading…") }));
    presetsLoaded.then(draw);
  }
  return form;
}

function pacingFields(form, pacing, onSave) {
  let base = pacing; // what the custom fields start from and keep (per-minute ceiling)
  const inputs = {};
  const number = (key) => {
    const [label, factor] = FIELDS[key];
    inputs[key] = h("input", {
      attrs: { type: "number", min: "0", step: "1", value: String(Math.round(pacing[key] / factor)), "aria-label": t(label) },
      dataset: { field: factor === 60 ? key.replace(/S$/, "M") : key },
    });
    return inputs[key];
  };
  const error = h("p", { class: "error-text", attrs: { role: "alert" }, dataset: { testid: "pacing-error" } });
  const enabled = h("input", {
    attrs: { type: "checkbox", checked: pacing.enabled ? "checked" : undefined },
    dataset: { field: "enabled" },
  });
  const windowOn = h("input", {
    attrs: { type: "checkbox", checked: pacing.window ? "checked" : undefined },
    dataset: { field: "window" },
  });
  // 24-hour times as the window's language writes them ("09.00" in Indonesian),
  // not the system's time field (which may be 12-hour).
  const clock = (value, label, field) =>
    h("input", {
      class: "time-field",
      attrs: { type: "text", inputmode: "numeric", size: "5", value: timeText(value), "aria-label": label },
      dataset: { field },
    });
  const start = clock(pacing.window?.start ?? "09:00", t("Sending starts at"), "start");
  const end = clock(pacing.window?.end ?? "20:00", t("Sending ends at"), "end");
  const custom = h(
    "div",
    { class: "pacing-custom stack", dataset: { testid: "pacing-custom" } },
    h("label", { class: "check" }, enabled, t("Pace messages (turn off only for rehearsals)")),
    h(
      "p",
      { class: "form-row" },
      h("span", { text: t("Wait") }),
      number("minDelayS"),
      h("span", { text: t("to") }),
      number("maxDelayS"),
      h("span", { text: t("seconds between messages") }),
    ),
    h(
      "p",
      { class: "form-row" },
      h("span", { text: t("Rest") }),
      number("restMinS"),
      h("span", { text: t("to") }),
      number("restMaxS"),
      h("span", { text: t("minutes after every") }),
      number("batchMin"),
      h("span", { text: t("to") }),
      number("batchMax"),
      h("span", { text: t("messages") }),
    ),
    h(
      "p",
      { class: "form-row" },
      h("span", { text: t("At most") }),
      number("hourlyCap"),
      h("span", { text: t("an hour and") }),
      number("dailyCap"),
      h("span", { text: t("a day (0: no cap)") }),
    ),
    h(
      "p",
      { class: "form-row" },
      h("span", { text: t("Warm up a new number over") }),
      number("warmUpDays"),
      h("span", { text: t("days (0: none)") }),
    ),
    h(
      "p",
      { class: "form-row" },
      h("span", { text: t("Stop for a while after") }),
      number("errorStreak"),
      h("span", { text: t("failures in a row (0: never)") }),
    ),
    h(
      "div",
      { class: "form-row" },
      h("label", { class: "check" }, windowOn, t("Send only between")),
      start,
      h("span", { text: t("and") }),
      end,
    ),
  );
  const fill = (from) => {
    for (const [key, [, factor]] of Object.entries(FIELDS)) inputs[key].value = String(Math.round(from[key] / factor));
    enabled.checked = from.enabled;
    windowOn.checked = Boolean(from.window);
    if (from.window) {
      start.value = timeText(from.window.start);
      end.value = timeText(from.window.end);
    }
  };
  let chosen = presetOf(pacing);
  const show = () => {
    custom.hidden = chosen !== "custom";
    for (const option of choices.querySelectorAll("[data-preset]")) option.classList.toggle("chosen", option.dataset.preset === chosen);
  };
  const option = (value, name, meaning, suits) =>
    h(
      "label",
      { class: "preset-choice", dataset: { preset: value } },
      h("input", {
        attrs: { type: "radio", name: "pacing-preset", value, checked: value === chosen ? "checked" : undefined },
        dataset: { testid: `preset-${value}` },
        on: {
          change: () => {
            const preset = presets.find((p) => p.preset === value);
            if (preset) {
              base = preset.pacing;
              fill(preset.pacing);
            }
            chosen = value;
            error.textContent = "";
            show();
          },
        },
      }),
      h(
        "span",
        { class: "preset-text" },
        h("span", { class: "preset-name", text: name }),
        meaning ? h("span", { class: "preset-meaning", dataset: { testid: "preset-meaning" }, text: meaning }) : null,
        h("span", { class: "preset-suits muted", text: suits }),
      ),
    );
  const choices = h(
    "fieldset",
    { class: "pacing-presets", dataset: { testid: "pacing-presets" } },
    h("legend", { text: t("How fast to send") }),
    presets.map((preset) =>
      option(
        preset.preset,
        t(PRESETS[preset.preset]?.name ?? preset.preset),
        pacingMeaning(preset),
        t(PRESETS[preset.preset]?.suits ?? ""),
      ),
    ),
    option("custom", t("Custom"), null, t("Set each number yourself.")),
  );
  show();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let next;
    if (chosen === "custom") {
      const hours = windowOn.checked ? { start: parseTime(start.value), end: parseTime(end.value) } : null;
      if (hours && (!hours.start || !hours.end)) {
        error.textContent = t("Write the time as {example} (24-hour).", { example: timeText("14:05") });
        return;
      }
      next = { ...base, enabled: enabled.checked, window: hours };
      for (const [key, [label, factor]] of Object.entries(FIELDS)) {
        const value = Number(inputs[key].value);
        if (inputs[key].value === "" || !Number.isInteger(value) || value < 0) {
          error.textContent = t("“{field}” must be a whole number, 0 or more.", { field: t(label) });
          inputs[key].focus();
          return;
        }
        next[key] = value * factor;
      }
    } else {
      next = { ...(presets.find((p) => p.preset === chosen)?.pacing ?? pacing) };
    }
    error.textContent = "";
    try {
      await onSave(next);
    } catch (e) {
      error.textContent = e.message;
    }
  });
  return [
    choices,
    custom,
    error,
    h("button", { class: "button primary", attrs: { type: "submit" }, dataset: { testid: "save-pacing" } }, t("Save pacing")),
  ];
}
