// Where a blast is, in one plain sentence ("Sending: 120 of 409 sent, 2
// failed. Finishes about today 15.40 WIB."), and the countdown to its next
// message ("Next message in 34 s: a pause between messages.").
//
// Test ids: `state-line` (data-code: the pause code), `countdown`
// (data-until).

import { N_, t } from "../../i18n.js";
import { formatIn, formatWhen } from "../../format.js";
import { pauseText } from "../../reasons.js";
import { count, h, plural } from "../../view.js";
import { WAIT_REASONS } from "../pacing-view.js";

/** Pause reasons the window words itself, by code. */
const PAUSES = {
  paused_by_you: N_("Paused by you."),
  restored: N_(
    "Restored from a backup. Messages may have gone out after the backup was taken that Blastdesk cannot know of: check the blast, then resume it.",
  ),
};

/** "120 of 409 sent" or "120 of 409 sent, 2 failed". */
function tally(c) {
  const vars = { sent: count(c.sent), total: count(c.total), failed: count(c.failed) };
  return c.failed ? t("{sent} of {total} sent, {failed} failed", vars) : t("{sent} of {total} sent", vars);
}

/** The sentence for a blast in its state. `info`: the live {waiting, finishEstimateMs}. */
export function stateText(blast, info = {}, nowMs = Date.now()) {
  const c = blast.counts;
  const tz = blast.timeZone;
  const pending = c.queued + c.sending + c.retryWait;
  switch (blast.state) {
    case "queued":
      return t("Waiting to start: {messages} to send.", { messages: plural(pending, "message") });
    case "running": {
      const waiting = info.waiting;
      if (waiting && waiting.untilMs > nowMs && waiting.reason === "outside_window") {
        return t("Waiting for sending hours: resumes {time}. So far {tally}.", {
          time: formatWhen(waiting.untilMs, tz, nowMs),
          tally: tally(c),
        });
      }
      if (waiting && waiting.untilMs > nowMs && waiting.reason === "daily_cap") {
        return t("Today's limit is reached: resumes {time}. So far {tally}.", {
          time: formatWhen(waiting.untilMs, tz, nowMs),
          tally: tally(c),
        });
      }
      const sending = t("Sending: {tally}.", { tally: tally(c) });
      return info.finishEstimateMs && pending
        ? `${sending} ${t("Finishes about {time}.", { time: formatWhen(info.finishEstimateMs, tz, nowMs) })}`
        : sending;
    }
    case "paused": {
      const code = blast.pauseCode;
      if (code === "needs_decision") {
        const vars = { n: count(c.unknown) };
        return c.unknown === 1
          ? t("{n} message may or may not have gone out when Blastdesk stopped: send it again, or leave it unsent.", vars)
          : t("{n} messages may or may not have gone out when Blastdesk stopped: send them again, or leave them unsent.", vars);
      }
      if (PAUSES[code]) return t(PAUSES[code]);
      const reason = pauseText(code, blast.pauseReason);
      return reason ? t("Paused: {reason}", { reason }) : t("Paused.");
    }
    case "completed":
      return t("Finished {time}: {tally}.", { time: formatWhen(blast.completedAt, tz, nowMs), tally: tally(c) });
    case "cancelled":
      return t("Cancelled: {tally}.", { tally: tally(c) });
    default:
      return "";
  }
}

/** The state line: the one live region of the screen (see blasts.js). */
export function stateLine(blast, info, nowMs = Date.now()) {
  return h("p", {
    class: `state-line state-line-${blast.state}`,
    attrs: { "aria-live": "polite" },
    dataset: { testid: "state-line", code: blast.pauseCode ?? "" },
    text: stateText(blast, info, nowMs),
  });
}

/** "Next message in 34 s: a pause between messages." */
export function countdownText(untilMs, reason, nowMs = Date.now()) {
  const why = reason ? t(WAIT_REASONS[reason] ?? reason) : "";
  if (untilMs <= nowMs) return t("Sending the next message…");
  const when = formatIn(untilMs, nowMs);
  return why ? t("Next message {in}: {reason}.", { in: when, reason: why }) : t("Next message {in}.", { in: when });
}

/** The countdown, redrawn each second by `tickCountdowns`. */
export function countdown(waiting, nowMs = Date.now()) {
  return h("p", {
    class: "countdown muted",
    dataset: { testid: "countdown", until: String(waiting.untilMs), reason: waiting.reason ?? "" },
    text: countdownText(waiting.untilMs, waiting.reason, nowMs),
  });
}

/** Redraws every countdown inside `root`. */
export function tickCountdowns(root, nowMs = Date.now()) {
  for (const el of root.querySelectorAll("[data-testid=countdown]")) {
    const text = countdownText(Number(el.dataset.until), el.dataset.reason, nowMs);
    if (el.textContent !== text) el.textContent = text;
  }
}
