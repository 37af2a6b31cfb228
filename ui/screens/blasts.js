// Blasts: every blast with live progress (from the engine's events), pause,
// resume, cancel, the decision about messages of unknown fate, and the
// per-recipient report with export.

import { N_, t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { count, emptyState, errorPanel, h, plural, present, screenHeader } from "../view.js";
import { WAIT_REASONS, formatTime } from "./pacing-view.js";

const live = new Map(); // blastId -> {perHour, finishEstimateMs, waiting: {untilMs, reason}}
let blasts = [];
let openReport = null; // {blastId, view} or {blastId, error}
let notice = null; // {kind, text}
let root = null;

const STATE_LABELS = {
  queued: N_("Waiting to start"),
  running: N_("Sending"),
  paused: N_("Paused"),
  cancelled: N_("Cancelled"),
  completed: N_("Complete"),
};

/** Pause reasons without details, by code, so they can be shown translated. */
const PAUSES = {
  paused_by_you: N_("Paused by you."),
  restored: N_("Restored from a backup. Messages may have gone out after the backup was taken that Blastdesk cannot know of: check the blast, then resume it."),
};

function byId(id) {
  return blasts.find((b) => b.id === id);
}

// Events seen, so that a list read while events arrived is read again.
let eventsSeen = 0;

// One subscription for the app's lifetime; the screen re-renders when shown.
api.on("engine", (event) => {
  eventsSeen += 1;
  const blast = byId(event.blastId);
  const info = live.get(event.blastId) ?? {};
  switch (event.event) {
    case "progress":
      if (blast) blast.counts = event.counts;
      info.perHour = event.perHour;
      info.finishEstimateMs = event.finishEstimateMs;
      break;
    case "waiting":
      info.waiting = { untilMs: event.untilMs, reason: event.reason };
      break;
    case "delivery":
      info.waiting = null;
      break;
    case "blastStarted":
      if (blast) blast.state = "running";
      break;
    case "blastCompleted":
      if (blast) Object.assign(blast, { state: "completed", counts: event.counts });
      info.waiting = null;
      break;
    case "blastCancelled":
      if (blast) Object.assign(blast, { state: "cancelled", counts: event.counts });
      break;
    case "blastPaused":
      if (blast) Object.assign(blast, { state: "paused", pauseCode: event.code, pauseReason: event.reason });
      info.waiting = null;
      break;
    case "needsDecision":
      if (blast) Object.assign(blast, { state: "paused", pauseCode: "needs_decision" });
      break;
  }
  live.set(event.blastId, info);
  if (!blast && root?.isConnected) return reload();
  updateCard(event.blastId);
});

async function reload() {
  try {
    blasts = await api.listBlasts();
  } catch (error) {
    notice = { kind: "error", text: ApiError.from(error).message };
  }
  update();
}

/**
 * While a blast is sending, the list is also read again now and then, and
 * the cards that changed are redrawn: the live events are the fast path,
 * this makes sure a missed one is caught up.
 */
const CATCH_UP_MS = 10_000;
let catchUp = null;

async function catchUpWithStore() {
  if (!root?.isConnected) {
    clearInterval(catchUp);
    catchUp = null;
    return;
  }
  if (!blasts.some((b) => b.state === "running" || b.state === "queued")) return;
  let fresh;
  try {
    fresh = await api.listBlasts();
  } catch {
    return; // the next round tries again
  }
  if (fresh.length !== blasts.length) {
    blasts = fresh;
    return update();
  }
  const shown = new Map(blasts.map((b) => [b.id, b]));
  blasts = fresh;
  for (const blast of fresh) {
    const before = shown.get(blast.id);
    const same = before && before.state === blast.state && JSON.stringify(before.counts) === JSON.stringify(blast.counts);
    if (!same) updateCard(blast.id);
  }
}

async function act(blastId, action) {
  notice = null;
  try {
    await action();
  } catch (error) {
    notice = { kind: "error", text: ApiError.from(error).message };
  }
  await reload();
}

function stat(label, value, key) {
  return h(
    "div",
    { class: "stat" },
    h("span", { class: "stat-value", dataset: { testid: `count-${key}` }, text: count(value) }),
    h("span", { class: "stat-label", text: label }),
  );
}

function card(blast) {
  const c = blast.counts;
  const info = live.get(blast.id) ?? {};
  const done = c.sent + c.failed + c.skipped;
  const pending = c.queued + c.sending + c.retryWait;
  const percent = c.total ? Math.round((done / c.total) * 100) : 0;
  const active = blast.state === "running" || blast.state === "queued";
  const finished = blast.state === "completed" || blast.state === "cancelled";
  const again = blast.resendable;
  const button = (text, testid, onClick, extra = "") =>
    h("button", { class: `button ${extra}`.trim(), attrs: { type: "button" }, dataset: { testid }, on: { click: onClick } }, text);
  const lines = present(
    active && info.waiting
      ? h("p", { class: "muted", dataset: { testid: "waiting" }, text: t("Next message at {time}: {reason}.", { time: formatTime(info.waiting.untilMs, blast.timeZone), reason: t(WAIT_REASONS[info.waiting.reason] ?? info.waiting.reason) }) })
      : null,
    active && info.finishEstimateMs
      ? h("p", { class: "muted", dataset: { testid: "finish" }, text: info.perHour ? t("Estimated finish {time} · {n} an hour.", { time: formatTime(info.finishEstimateMs, blast.timeZone), n: count(info.perHour) }) : t("Estimated finish {time}.", { time: formatTime(info.finishEstimateMs, blast.timeZone) }) })
      : null,
    blast.state === "paused" && blast.pauseReason
      ? h("p", { class: "pause-reason", attrs: { role: "status" }, dataset: { testid: "pause-reason", code: blast.pauseCode ?? "" }, text: PAUSES[blast.pauseCode] ? t(PAUSES[blast.pauseCode]) : blast.pauseReason })
      : null,
  );
  const actions = present(
    active ? button(t("Pause"), "pause", () => act(blast.id, () => api.pauseBlast(blast.id))) : null,
    blast.state === "paused" && blast.pauseCode !== "needs_decision"
      ? button(t("Resume"), "resume", () => act(blast.id, () => api.resumeBlast(blast.id)), "primary")
      : null,
    blast.pauseCode === "needs_decision" && blast.state === "paused"
      ? [
          button(t("Send the {unknown} again", { unknown: plural(c.unknown, "unknown one") }), "resend-unknown", () => act(blast.id, () => api.decideUnknown(blast.id, true))),
          button(t("Leave them unsent"), "leave-unknown", () => act(blast.id, () => api.decideUnknown(blast.id, false))),
        ]
      : null,
    active || blast.state === "paused"
      ? button(t("Cancel"), "cancel", () => {
          if (confirm(t("Cancel “{name}”? The {pending} not sent yet will not be sent.", { name: blast.name, pending: plural(pending, "message") }))) {
            act(blast.id, () => api.cancelBlast(blast.id));
          }
        }, "danger")
      : null,
    finished && again > 0
      ? button(t("Send again to {n} (failed or unknown)", { n: count(again) }), "resend", () => {
          if (confirm(t("Send “{name}” again to the {n} whose message failed or whose fate is unknown? It goes as a new blast; some may have received it already.", { name: blast.name, n: count(again) }))) {
            act(blast.id, async () => {
              const resent = await api.resendBlast(blast.id);
              notice = { kind: "ok", text: t("Sending again to {recipients} as a new blast.", { recipients: plural(resent.recipients, "recipient") }) };
            });
          }
        })
      : null,
    button(openReport?.blastId === blast.id ? t("Hide report") : t("Report"), "report", () => toggleReport(blast.id)),
  );
  return h(
    "article",
    { class: "card blast", dataset: { testid: "blast-card", blastId: String(blast.id), state: blast.state } },
    h(
      "header",
      { class: "row" },
      h("h2", { text: blast.name }),
      h("span", { class: `badge badge-${blast.state}`, dataset: { testid: "blast-state" }, text: t(STATE_LABELS[blast.state] ?? blast.state) }),
      blast.simulated ? h("span", { class: "badge", text: t("Rehearsal") }) : null,
    ),
    h("p", { class: "muted", text: t("From {account} · created {time}", { account: blast.accountName, time: formatTime(blast.createdAt) }) }),
    h("progress", { attrs: { max: "100", value: String(percent), "aria-label": t("{percent}% done", { percent }) } }),
    h(
      "div",
      { class: "stats" },
      stat(t("sent"), c.sent, "sent"),
      stat(t("failed"), c.failed, "failed"),
      stat(t("skipped"), c.skipped, "skipped"),
      stat(t("waiting"), pending, "pending"),
      stat(t("unknown"), c.unknown, "unknown"),
      stat(t("in all"), c.total, "total"),
    ),
    // WhatsApp's receipts, for real sends: how many arrived and were read.
    !blast.simulated && c.sent
      ? h("p", { class: "muted", dataset: { testid: "receipts" }, text: t("{delivered} of the {sent} sent arrived; {read} read.", { delivered: count(blast.receipts?.delivered ?? 0), sent: count(c.sent), read: count(blast.receipts?.read ?? 0) }) })
      : null,
    ...lines,
    h("div", { class: "row actions" }, actions),
    openReport?.blastId === blast.id ? report(blast) : null,
  );
}

const OUTCOMES = {
  pending: N_("Waiting"),
  sent: N_("Sent"),
  delivered: N_("Delivered"),
  read: N_("Read"),
  failed: N_("Failed"),
  skipped: N_("Skipped"),
  unknown: N_("Unknown"),
};

function report(blast) {
  if (openReport.error) return errorPanel(openReport.error);
  const view = openReport.view;
  if (!view) return h("p", { class: "progress", text: t("Loading the report…") });
  const when = (ms) => (ms ? formatTime(ms, blast.timeZone) : "");
  return h(
    "section",
    { class: "report stack", dataset: { testid: "report" } },
    h(
      "div",
      { class: "row" },
      h("p", { class: "muted", text: view.total > view.rows.length ? t("The first {shown} of {total} recipients; the export has them all.", { shown: count(view.rows.length), total: count(view.total) }) : plural(view.total, "recipient") }),
      h("button", { class: "button", attrs: { type: "button" }, dataset: { testid: "export" }, on: { click: () => exportReport(blast.id) } }, t("Export…")),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "preview" },
        h("thead", {}, h("tr", {}, [t("Phone"), t("Outcome"), t("Reason"), t("Sent"), t("Message")].map((text) => h("th", { text })))),
        h(
          "tbody",
          {},
          view.rows.map((row) =>
            h(
              "tr",
              { dataset: { outcome: row.outcome } },
              h("td", { text: row.phone }),
              h("td", { text: t(OUTCOMES[row.outcome] ?? row.outcome) }),
              h("td", { text: row.errorDetail ?? "" }),
              h("td", { text: when(row.sentAt) }),
              h("td", { class: "message-cell", text: row.text ?? "" }),
            ),
          ),
        ),
      ),
    ),
  );
}

async function toggleReport(blastId) {
  if (openReport?.blastId === blastId) {
    openReport = null;
    return update();
  }
  openReport = { blastId, view: null };
  update();
  try {
    openReport = { blastId, view: await api.blastReport(blastId) };
  } catch (error) {
    openReport = { blastId, error: ApiError.from(error) };
  }
  update();
}

async function exportReport(blastId) {
  notice = null;
  try {
    const path = await api.exportReport(blastId);
    if (path) notice = { kind: "ok", text: t("Report saved to {path}", { path }) };
  } catch (error) {
    notice = { kind: "error", text: ApiError.from(error).message };
  }
  update();
}

function updateCard(blastId) {
  const old = root?.querySelector(`[data-testid=blast-card][data-blast-id="${blastId}"]`);
  const blast = byId(blastId);
  if (old && blast) old.replaceWith(card(blast));
}

function render() {
  return h(
    "div",
    { class: "stack" },
    screenHeader(t("Blasts"), t("Live progress, history and reports of your sends.")),
    ...present(
      notice ? h("p", { class: `notice notice-${notice.kind}`, attrs: { role: notice.kind === "error" ? "alert" : "status" }, dataset: { testid: "notice" }, text: notice.text }) : null,
      blasts.length === 0
        ? emptyState({
            title: t("No blasts yet"),
            body: t("When you send a blast, its progress appears here live: sent, failed, skipped and waiting, with the expected finish time."),
            points: [
              t("Pause, resume or cancel at any time"),
              t("A per-customer report you can export to Excel"),
              t("No one ever receives the same message twice, even after a crash"),
            ],
          })
        : blasts.map(card),
    ),
  );
}

function update() {
  if (root?.isConnected) root.replaceChildren(render());
}

export default {
  id: "blasts",
  get title() {
    return t("Blasts");
  },
  async render() {
    const seen = eventsSeen;
    try {
      blasts = await api.listBlasts();
    } catch (error) {
      return errorPanel(ApiError.from(error));
    }
    root = h("div", {});
    root.replaceChildren(render());
    // The engine moved on while the list was being read: read it again
    // once the screen is shown, so no state change is lost.
    if (eventsSeen !== seen) setTimeout(reload, 0);
    clearInterval(catchUp);
    catchUp = setInterval(catchUpWithStore, CATCH_UP_MS);
    return root;
  },
};
