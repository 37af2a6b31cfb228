// A blast's progress as one stacked, colour-coded bar: every delivery is in
// exactly one segment (read, delivered, sent, failed, skipped, unknown,
// waiting), each as wide as its share, with a legend that counts them.
//
// Test ids: `progress-bar`, `segment` (data-kind), `count-KIND`, `count-total`.

import { N_, t } from "../../i18n.js";
import { count, h } from "../../view.js";

/** The segments in the order they are drawn, with their legend labels. */
export const SEGMENTS = [
  ["read", N_("read")],
  ["delivered", N_("delivered")],
  ["sent", N_("sent")],
  ["failed", N_("failed")],
  ["skipped", N_("skipped")],
  ["unknown", N_("unknown")],
  ["waiting", N_("waiting")],
];

/**
 * Deliveries by segment, from the blast's counts and WhatsApp's receipts:
 * a read message is only "read", a delivered one only "delivered", and
 * "sent" is what went out without a receipt yet. The segments add up to the
 * blast's total.
 */
export function segmentCounts(blast) {
  const c = blast.counts;
  const delivered = Math.min(blast.receipts?.delivered ?? 0, c.sent);
  const read = Math.min(blast.receipts?.read ?? 0, delivered);
  return {
    read,
    delivered: delivered - read,
    sent: c.sent - delivered,
    failed: c.failed,
    skipped: c.skipped,
    unknown: c.unknown,
    waiting: c.queued + c.sending + c.retryWait,
  };
}

/** "3 read, 1 failed, 2 waiting": the non-empty segments in words. */
export function segmentsText(blast) {
  const counts = segmentCounts(blast);
  return SEGMENTS.filter(([kind]) => counts[kind] > 0)
    .map(([kind, label]) => `${count(counts[kind])} ${t(label)}`)
    .join(", ");
}

/** The bar and its legend. */
export function progressBar(blast) {
  const counts = segmentCounts(blast);
  const total = blast.counts.total;
  const finished = blast.state === "completed" || blast.state === "cancelled";
  const label = total
    ? t("Progress: {segments} (of {total}).", { segments: segmentsText(blast), total: count(total) })
    : t("No recipients.");
  const segments = SEGMENTS.filter(([kind]) => counts[kind] > 0).map(([kind]) => {
    const segment = h("span", { class: `segment segment-${kind}`, dataset: { testid: "segment", kind } });
    // Proportional widths (the CSP allows no style attributes: set through
    // the CSSOM); the smallest share keeps a few pixels so a single failure
    // among thousands still shows.
    segment.style.flexGrow = String(counts[kind]);
    return segment;
  });
  return h(
    "div",
    { class: "progress-block" },
    h("div", { class: "segment-bar", attrs: { role: "img", "aria-label": label }, dataset: { testid: "progress-bar" } }, segments),
    h(
      "ul",
      { class: "legend", attrs: { "aria-hidden": "true" } },
      SEGMENTS.filter(([kind]) => counts[kind] > 0 || kind === "sent" || kind === "failed" || (kind === "waiting" && !finished)).map(
        ([kind, text]) =>
          h(
            "li",
            { class: `legend-item legend-${kind}${counts[kind] ? "" : " legend-empty"}`, dataset: { kind } },
            h("span", { class: `swatch segment-${kind}` }),
            h("span", { class: "legend-count", dataset: { testid: `count-${kind}` }, text: count(counts[kind]) }),
            h("span", { class: "legend-label", text: t(text) }),
          ),
      ),
      h(
        "li",
        { class: "legend-item legend-total" },
        h("span", { class: "legend-count", dataset: { testid: "count-total" }, text: count(total) }),
        h("span", { class: "legend-label", text: t("in all") }),
      ),
    ),
  );
}
