// Blasts: every blast with its progress at a glance (a stacked bar, a chart
// of sends over time, a sentence saying where it is, a countdown to the
// next message), pause, resume, cancel, the decision about messages of
// unknown fate, and the per-recipient report with filters and export.
//
// The parts live in blasts/: progress-bar.js, chart.js, state-line.js,
// report.js. Live updates come from the engine's events; the list is read
// again now and then while something can still change (a missed event, a
// receipt that arrives after the blast finished).

import { N_, t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { formatTime } from "../format.js";
import { ask } from "../components/dialog.js";
import { count, emptyState, errorPanel, h, noticeLine, plural, present, screenHeader } from "../view.js";
import { progressBar } from "./blasts/progress-bar.js";
import { sendChart } from "./blasts/chart.js";
import { countdown, stateLine, tickCountdowns } from "./blasts/state-line.js";
import { reportView } from "./blasts/report.js";

const live = new Map(); // blastId -> {perHour, finishEstimateMs, waiting: {untilMs, reason}}
const timelines = new Map(); // blastId -> {minutes, readAt}
let blasts = [];
let openReport = null; // {blastId, view, error, filter}
let notice = null; // {kind, text}
let root = null;

const STATE_LABELS = {
  queued: N_("Waiting to start"),
  running: N_("Sending"),
  paused: N_("Paused"),
  cancelled: N_("Cancelled"),
  completed: N_("Complete"),
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
      refreshTimeline(event.blastId);
      break;
    case "blastStarted":
      if (blast) blast.state = "running";
      break;
    case "blastCompleted":
      if (blast) Object.assign(blast, { state: "completed", counts: event.counts, completedAt: blast.completedAt ?? Date.now() });
      info.waiting = null;
      refreshTimeline(event.blastId, true);
      // The summary says how many can be sent again.
      if (root?.isConnected) reload();
      break;
    case "blastCancelled":
      if (blast) Object.assign(blast, { state: "cancelled", counts: event.counts });
      info.waiting = null;
      if (root?.isConnected) reload();
      break;
    case "blastPaused":
      if (blast) Object.assign(blast, { state: "paused", pauseCode: event.code, pauseReason: event.reason });
      info.waiting = null;
      break;
    case "needsDecision":
      if (blast)
        Object.assign(blast, { state: "paused", pauseCode: "needs_decision", counts: { ...blast.counts, unknown: event.unknown } });
      info.waiting = null;
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

/** A blast whose chart is drawn: sending, paused, or with its report open. */
function charted(blast) {
  return blast.state === "running" || blast.state === "queued" || blast.state === "paused" || openReport?.blastId === blast.id;
}

/** Reads a blast's per-minute sends again (at most every few seconds unless `now`). */
const TIMELINE_EVERY_MS = 5_000;
async function refreshTimeline(blastId, now = false) {
  const known = timelines.get(blastId);
  if (known?.loading) return;
  if (!now && known && Date.now() - known.readAt < TIMELINE_EVERY_MS) return;
  timelines.set(blastId, { ...(known ?? { minutes: [] }), loading: true });
  try {
    const timeline = await api.blastTimeline(blastId);
    timelines.set(blastId, { minutes: timeline.minutes, readAt: Date.now() });
  } catch {
    timelines.set(blastId, { ...(known ?? { minutes: [] }), readAt: Date.now() }); // tried again later
  }
  updateCard(blastId);
}

/**
 * While a blast can still change, the list is also read again now and then
 * and the cards that changed are redrawn: the live events are the fast
 * path, this catches up a missed one, and the receipts (delivered, read)
 * that WhatsApp sends after a blast has finished.
 */
const CATCH_UP_MS = 10_000;
const RECEIPTS_FOR_MS = 24 * 3600 * 1000;
let catchUp = null;
let ticker = null;

function changing(blast, nowMs = Date.now()) {
  if (blast.state === "running" || blast.state === "queued") return true;
  const finishedLately = blast.completedAt && nowMs - blast.completedAt < RECEIPTS_FOR_MS;
  return !blast.simulated && blast.counts.sent > (blast.receipts?.read ?? 0) && Boolean(finishedLately);
}

async function catchUpWithStore() {
  if (!root?.isConnected) {
    clearInterval(catchUp);
    catchUp = null;
    return;
  }
  if (!blasts.some((b) => changing(b))) return;
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
  const same = (a, b) =>
    a &&
    a.state === b.state &&
    JSON.stringify([a.counts, a.receipts, a.resendable]) === JSON.stringify([b.counts, b.receipts, b.resendable]);
  for (const blast of fresh) {
    if (!same(shown.get(blast.id), blast)) updateCard(blast.id);
  }
}

async function act(action) {
  notice = null;
  try {
    await action();
  } catch (error) {
    notice = { kind: "error", text: ApiError.from(error).message };
  }
  await reload();
}

async function cancel(blast) {
  const c = blast.counts;
  // Messages of unknown fate are not sent either once it is cancelled.
  const pending = c.queued + c.sending + c.retryWait + c.unknown;
  const yes = await ask({
    kind: "cancel-blast",
    title: t("Cancel the blast?"),
    body: t("Cancel “{name}”? The {pending} not sent yet will not be sent.", { name: blast.name, pending: plural(pending, "message") }),
    confirm: t("Cancel the blast"),
    cancel: t("Keep sending"),
    danger: true,
  });
  if (yes) await act(() => api.cancelBlast(blast.id));
}

async function resend(blast) {
  const n = blast.resendable;
  const yes = await ask({
    kind: "resend",
    title: t("Send “{name}” again?", { name: blast.name }),
    body: t(
      "A new blast goes to the {recipients} whose message failed or whose fate is unknown. Those of unknown fate may have received it already.",
      { recipients: plural(n, "recipient") },
    ),
    confirm: t("Send again to {recipients}", { recipients: plural(n, "recipient") }),
  });
  if (!yes) return;
  await act(async () => {
    const resent = await api.resendBlast(blast.id);
    notice = {
      kind: "ok",
      text: t("Sending again to {recipients} as a new blast.", { recipients: plural(resent.recipients, "recipient") }),
    };
  });
  if (openReport?.blastId === blast.id) openReport = null;
  update();
}

function card(blast) {
  const c = blast.counts;
  const info = live.get(blast.id) ?? {};
  const active = blast.state === "running" || blast.state === "queued";
  const finished = blast.state === "completed" || blast.state === "cancelled";
  const button = (text, testid, onClick, extra = "") =>
    h("button", { class: `button ${extra}`.trim(), attrs: { type: "button" }, dataset: { testid }, on: { click: onClick } }, text);
  const actions = present(
    active ? button(t("Pause"), "pause", () => act(() => api.pauseBlast(blast.id))) : null,
    blast.state === "paused" && blast.pauseCode !== "needs_decision"
      ? button(t("Resume"), "resume", () => act(() => api.resumeBlast(blast.id)), "primary")
      : null,
    blast.pauseCode === "needs_decision" && blast.state === "paused"
      ? [
          button(t("Send the {unknown} again", { unknown: plural(c.unknown, "unknown one") }), "resend-unknown", () =>
            act(() => api.decideUnknown(blast.id, true)),
          ),
          button(t("Leave them unsent"), "leave-unknown", () => act(() => api.decideUnknown(blast.id, false))),
        ]
      : null,
    active || blast.state === "paused" ? button(t("Cancel"), "cancel", () => cancel(blast), "danger") : null,
    finished && blast.resendable > 0
      ? button(t("Send again to {n} (failed or unknown)", { n: count(blast.resendable) }), "resend", () => resend(blast))
      : null,
    button(openReport?.blastId === blast.id ? t("Hide report") : t("Report"), "report", () => toggleReport(blast.id)),
  );
  const timeline = timelines.get(blast.id);
  if (charted(blast) && !timeline && c.sent + c.failed > 0) queueMicrotask(() => refreshTimeline(blast.id, true));
  return h(
    "article",
    { class: "card blast", dataset: { testid: "blast-card", blastId: String(blast.id), state: blast.state } },
    h(
      "header",
      { class: "row" },
      h("h2", { text: blast.name }),
      h("span", {
        class: `badge badge-${blast.state}`,
        dataset: { testid: "blast-state" },
        text: t(STATE_LABELS[blast.state] ?? blast.state),
      }),
      blast.simulated ? h("span", { class: "badge", text: t("Rehearsal") }) : null,
    ),
    h("p", {
      class: "muted",
      text: t("From {account} · created {time}", {
        account: blast.simulated ? t("Rehearsal") : blast.accountName,
        time: formatTime(blast.createdAt, blast.timeZone),
      }),
    }),
    stateLine(blast, info),
    blast.state === "running" && info.waiting ? countdown(info.waiting) : null,
    progressBar(blast),
    charted(blast) && timeline ? sendChart(blast, timeline, active ? info.finishEstimateMs : null) : null,
    h("div", { class: "row actions" }, actions),
    openReport?.blastId === blast.id
      ? reportView(blast, openReport, {
          setFilter: (filter) => {
            openReport = { ...openReport, filter };
            updateCard(blast.id);
          },
          exportReport: () => exportReport(blast.id),
          resend: () => resend(blast),
        })
      : null,
  );
}

async function toggleReport(blastId) {
  if (openReport?.blastId === blastId) {
    openReport = null;
    return update();
  }
  openReport = { blastId, view: null, filter: "all" };
  update();
  const opened = openReport;
  try {
    opened.view = await api.blastReport(blastId);
  } catch (error) {
    opened.error = ApiError.from(error);
  }
  if (openReport === opened) update();
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

/**
 * Redraws one card. The state line is the screen's one live region: the old
 * element stays (with the new text), so a screen reader reads a change of
 * state once, not every redraw.
 */
function updateCard(blastId) {
  const old = root?.querySelector(`[data-testid=blast-card][data-blast-id="${blastId}"]`);
  const blast = byId(blastId);
  if (!old || !blast) return;
  const fresh = card(blast);
  const oldLine = old.querySelector("[data-testid=state-line]");
  const newLine = fresh.querySelector("[data-testid=state-line]");
  if (oldLine && newLine) {
    if (oldLine.textContent !== newLine.textContent) oldLine.textContent = newLine.textContent;
    oldLine.className = newLine.className;
    oldLine.dataset.code = newLine.dataset.code;
    newLine.replaceWith(oldLine);
  }
  // Keep the keyboard where it was (a button of the card, a filter).
  const active = old.contains(document.activeElement) ? document.activeElement.dataset : null;
  old.replaceWith(fresh);
  if (active?.testid) {
    const filter = active.filter ? `[data-filter="${active.filter}"]` : "";
    fresh.querySelector(`[data-testid="${active.testid}"]${filter}`)?.focus();
  }
}

function render() {
  return h(
    "div",
    { class: "stack" },
    screenHeader(t("Blasts"), t("Live progress, history and reports of your sends.")),
    ...present(
      noticeLine(notice),
      blasts.length === 0
        ? emptyState({
            title: t("No blasts yet"),
            body: t(
              "When you send a blast, its progress appears here live: sent, failed, skipped and waiting, with the expected finish time.",
            ),
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

function tick() {
  if (!root?.isConnected) {
    clearInterval(ticker);
    ticker = null;
    return;
  }
  tickCountdowns(root);
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
    timelines.clear();
    root = h("div", {});
    root.replaceChildren(render());
    // The engine moved on while the list was being read: read it again
    // once the screen is shown, so no state change is lost.
    if (eventsSeen !== seen) setTimeout(reload, 0);
    clearInterval(catchUp);
    catchUp = setInterval(catchUpWithStore, CATCH_UP_MS);
    clearInterval(ticker);
    ticker = setInterval(tick, 1000);
    return root;
  },
};
