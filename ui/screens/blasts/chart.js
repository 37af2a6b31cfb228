// A small chart of a blast's sends over time: how many have gone out
// (sent or failed), minute by minute, and, while it sends, a dashed line
// from now to the estimated finish. Inline SVG, drawn from the core's
// per-minute counts (`blast_timeline`).
//
// Test ids: `send-chart`, `chart-done`, `chart-projection`, `chart-caption`.

import { t } from "../../i18n.js";
import { formatWhen } from "../../format.js";
import { count, h } from "../../view.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320;
const HEIGHT = 96;
const PAD = { left: 4, right: 4, top: 8, bottom: 8 };

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}

/**
 * The points of the chart: cumulative messages handled (sent + failed) at
 * the end of each minute with any (the current minute: now), starting from
 * zero at the first one.
 */
export function cumulative(minutes, nowMs = Date.now()) {
  if (!minutes.length) return [];
  const points = [{ at: minutes[0].minuteMs, done: 0 }];
  let done = 0;
  for (const minute of minutes) {
    done += minute.sent + minute.failed;
    points.push({ at: Math.max(minute.minuteMs, Math.min(minute.minuteMs + 60_000, nowMs)), done, failed: minute.failed });
  }
  return points;
}

/**
 * The chart, or null when nothing has gone out yet. `finishMs`: the
 * estimated finish while the blast sends (else null); `nowMs`: where the
 * projection starts.
 */
export function sendChart(blast, timeline, finishMs, nowMs = Date.now()) {
  const points = cumulative(timeline?.minutes ?? [], nowMs);
  if (!points.length) return null;
  const c = blast.counts;
  const last = points[points.length - 1];
  // What can still go out: the waiting ones, on top of what has.
  const target = last.done + c.queued + c.sending + c.retryWait;
  const projecting = finishMs && target > last.done && finishMs > nowMs;
  const start = points[0].at;
  const lastAt = last.at;
  const end = Math.max(projecting ? finishMs : lastAt, start + 60_000);
  const top = Math.max(target, last.done, 1);
  const x = (at) => PAD.left + ((at - start) / (end - start)) * (WIDTH - PAD.left - PAD.right);
  const y = (done) => HEIGHT - PAD.bottom - (done / top) * (HEIGHT - PAD.top - PAD.bottom);
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(Math.min(p.at, end)).toFixed(1)},${y(p.done).toFixed(1)}`).join(" ");
  const area = `${line} L${x(Math.min(last.at, end)).toFixed(1)},${y(0)} L${x(start).toFixed(1)},${y(0)} Z`;
  const failures = points
    .filter((p) => p.failed)
    .map((p) =>
      svg("line", {
        class: "chart-failed",
        x1: x(Math.min(p.at, end)).toFixed(1),
        x2: x(Math.min(p.at, end)).toFixed(1),
        y1: y(p.done) - 6,
        y2: y(p.done) + 6,
      }),
    );
  const tz = blast.timeZone;
  const [from, to] = [formatWhen(start, tz, nowMs), formatWhen(last.at, tz, nowMs)];
  const caption = projecting
    ? t("{done} of {target} gone out; estimated finish {time}.", {
        done: count(last.done),
        target: count(target),
        time: formatWhen(finishMs, tz, nowMs),
      })
    : from === to
      ? t("{done} gone out at {time}.", { done: count(last.done), time: from })
      : t("{done} gone out, from {start} to {end}.", { done: count(last.done), start: from, end: to });
  return h(
    "figure",
    { class: "send-chart", dataset: { testid: "send-chart" } },
    svg(
      "svg",
      { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": caption, preserveAspectRatio: "none", class: "chart-svg" },
      svg("line", { class: "chart-axis", x1: PAD.left, y1: y(0), x2: WIDTH - PAD.right, y2: y(0) }),
      svg("line", { class: "chart-goal", x1: PAD.left, y1: y(top), x2: WIDTH - PAD.right, y2: y(top) }),
      svg("path", { class: "chart-area", d: area }),
      svg("path", { class: "chart-done", d: line, "data-testid": "chart-done" }),
      projecting
        ? svg("path", {
            class: "chart-projection",
            d: `M${x(Math.min(lastAt, end)).toFixed(1)},${y(last.done).toFixed(1)} L${x(finishMs).toFixed(1)},${y(target).toFixed(1)}`,
            "data-testid": "chart-projection",
          })
        : null,
      failures,
    ),
    h("figcaption", {
      class: "muted chart-caption",
      dataset: { testid: "chart-caption" },
      attrs: { "aria-hidden": "true" },
      text: caption,
    }),
  );
}
