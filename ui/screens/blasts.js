// Blasts: every blast with live progress (from the engine's events), pause,
// resume, cancel, the decision about messages of unknown fate, and the
// per-recipient report with export.

import { api, ApiError } from "../api.js";
import { count, emptyState, errorPanel, h, plural, present, screenHeader } from "../view.js";
import { WAIT_REASONS, formatTime } from "./pacing-view.js";

const live = new Map(); // blastId -> {perHour, finishEstimateMs, waiting: {untilMs, reason}}
let blasts = [];
let openReport = null; // {blastId, view} or {blastId, error}
let notice = null; // {kind, text}
let root = null;

const STATE_LABELS = {
  queued: "Waiting to start",
  running: "Sending",
  paused: "Paused",
  cancelled: "Cancelled",
  completed: "Complete",
};

function byId(id) {
  return blasts.find((b) => b.id === id);
}

// One subscription for the app's lifetime; the screen re-renders when shown.
api.on("engine", (event) => {
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
  const button = (text, testid, onClick, extra = "") =>
    h("button", { class: `button ${extra}`.trim(), attrs: { type: "button" }, dataset: { testid }, on: { click: onClick } }, text);
  const lines = present(
    active && info.waiting
      ? h("p", { class: "muted", dataset: { testid: "waiting" }, text: `Next message at ${formatTime(info.waiting.untilMs, blast.timeZone)}: ${WAIT_REASONS[info.waiting.reason] ?? info.waiting.reason}.` })
      : null,
    active && info.finishEstimateMs
      ? h("p", { class: "muted", dataset: { testid: "finish" }, text: `Estimated finish ${formatTime(info.finishEstimateMs, blast.timeZone)}${info.perHour ? ` · ${count(info.perHour)} an hour` : ""}.` })
      : null,
    blast.state === "paused" && blast.pauseReason
      ? h("p", { class: "pause-reason", attrs: { role: "status" }, dataset: { testid: "pause-reason", code: blast.pauseCode ?? "" }, text: blast.pauseReason })
      : null,
  );
  const actions = present(
    active ? button("Pause", "pause", () => act(blast.id, () => api.pauseBlast(blast.id))) : null,
    blast.state === "paused" && blast.pauseCode !== "needs_decision"
      ? button("Resume", "resume", () => act(blast.id, () => api.resumeBlast(blast.id)), "primary")
      : null,
    blast.pauseCode === "needs_decision" && blast.state === "paused"
      ? [
          button(`Send the ${plural(c.unknown, "unknown one")} again`, "resend-unknown", () => act(blast.id, () => api.decideUnknown(blast.id, true))),
          button("Leave them unsent", "leave-unknown", () => act(blast.id, () => api.decideUnknown(blast.id, false))),
        ]
      : null,
    active || blast.state === "paused"
      ? button("Cancel", "cancel", () => {
          if (confirm(`Cancel “${blast.name}”? The ${plural(pending, "message")} not sent yet will not be sent.`)) {
            act(blast.id, () => api.cancelBlast(blast.id));
          }
        }, "danger")
      : null,
    button(openReport?.blastId === blast.id ? "Hide report" : "Report", "report", () => toggleReport(blast.id)),
  );
  return h(
    "article",
    { class: "card blast", dataset: { testid: "blast-card", blastId: String(blast.id), state: blast.state } },
    h(
      "header",
      { class: "row" },
      h("h2", { text: blast.name }),
      h("span", { class: `badge badge-${blast.state}`, dataset: { testid: "blast-state" }, text: STATE_LABELS[blast.state] ?? blast.state }),
      blast.simulated ? h("span", { class: "badge", text: "Rehearsal" }) : null,
    ),
    h("p", { class: "muted", text: `From ${blast.accountName} · created ${formatTime(blast.createdAt)}` }),
    h("progress", { attrs: { max: "100", value: String(percent), "aria-label": `${percent}% done` } }),
    h(
      "div",
      { class: "stats" },
      stat("sent", c.sent, "sent"),
      stat("failed", c.failed, "failed"),
      stat("skipped", c.skipped, "skipped"),
      stat("waiting", pending, "pending"),
      stat("unknown", c.unknown, "unknown"),
      stat("in all", c.total, "total"),
    ),
    ...lines,
    h("div", { class: "row actions" }, actions),
    openReport?.blastId === blast.id ? report(blast) : null,
  );
}

const OUTCOMES = {
  pending: "Waiting",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  failed: "Failed",
  skipped: "Skipped",
  unknown: "Unknown",
};

function report(blast) {
  if (openReport.error) return errorPanel(openReport.error);
  const view = openReport.view;
  if (!view) return h("p", { class: "progress", text: "Loading the report…" });
  const when = (ms) => (ms ? formatTime(ms, blast.timeZone) : "");
  return h(
    "section",
    { class: "report stack", dataset: { testid: "report" } },
    h(
      "div",
      { class: "row" },
      h("p", { class: "muted", text: view.total > view.rows.length ? `The first ${count(view.rows.length)} of ${count(view.total)} recipients; the export has them all.` : plural(view.total, "recipient") }),
      h("button", { class: "button", attrs: { type: "button" }, dataset: { testid: "export" }, on: { click: () => exportReport(blast.id) } }, "Export…"),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "preview" },
        h("thead", {}, h("tr", {}, ["Phone", "Outcome", "Reason", "Sent", "Message"].map((t) => h("th", { text: t })))),
        h(
          "tbody",
          {},
          view.rows.map((row) =>
            h(
              "tr",
              { dataset: { outcome: row.outcome } },
              h("td", { text: row.phone }),
              h("td", { text: OUTCOMES[row.outcome] ?? row.outcome }),
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
    if (path) notice = { kind: "ok", text: `Report saved to ${path}` };
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
    screenHeader("Blasts", "Live progress and reports of your sends."),
    ...present(
      notice ? h("p", { class: `notice notice-${notice.kind}`, attrs: { role: notice.kind === "error" ? "alert" : "status" }, dataset: { testid: "notice" }, text: notice.text }) : null,
      blasts.length === 0
        ? emptyState({
            title: "No blasts yet",
            body: "When you send a blast, its progress appears here live: sent, failed, skipped and waiting, with the expected finish time.",
            points: [
              "Pause, resume or cancel at any time",
              "A per-customer report you can export to Excel",
              "No one ever receives the same message twice, even after a crash",
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
  title: "Blasts",
  async render() {
    try {
      blasts = await api.listBlasts();
    } catch (error) {
      return errorPanel(ApiError.from(error));
    }
    root = h("div", {});
    root.replaceChildren(render());
    return root;
  },
};
