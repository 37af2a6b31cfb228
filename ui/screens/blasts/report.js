// A blast's per-recipient report: the customer's name and number, a
// WhatsApp-style tick for how far the message got, the reason for a
// failure, the time (the zone named once, above the table), filters, and
// "Send again" where the failed ones are shown.
//
// Test ids: `report`, `report-filter` (data-filter, aria-pressed),
// `report-zone`, `report-resend`, `report-empty`, `export`; rows are
// `tr[data-outcome]` with `[data-testid=tick]`.

import { N_, currentLanguage, locale, t } from "../../i18n.js";
import { zoneName } from "../../format.js";
import { deliveryText } from "../../reasons.js";
import { count, errorPanel, h, plural } from "../../view.js";

/** How far each message got: its tick (as WhatsApp draws it) and its words. */
const OUTCOMES = {
  pending: { tick: "🕓", label: N_("Waiting") },
  sent: { tick: "✓", label: N_("Sent") },
  delivered: { tick: "✓✓", label: N_("Delivered") },
  read: { tick: "✓✓", label: N_("Read") },
  failed: { tick: "!", label: N_("Failed") },
  skipped: { tick: "–", label: N_("Skipped") },
  unknown: { tick: "?", label: N_("Unknown") },
};

/** The filters: which outcomes each shows. */
const FILTERS = [
  ["all", N_("All"), () => true],
  ["failed", N_("Failed"), (row) => row.outcome === "failed"],
  ["unknown", N_("Unknown"), (row) => row.outcome === "unknown"],
  ["skipped", N_("Skipped"), (row) => row.outcome === "skipped"],
  ["read", N_("Read"), (row) => row.outcome === "read"],
];

/**
 * A time in the blast's zone without the zone's name (the table names it
 * once): "14.05" today, else "3 Des 14.05".
 */
function rowTime(ms, timeZone, nowMs = Date.now()) {
  if (!ms) return "";
  const hourCycle = currentLanguage() === "id" ? { hourCycle: "h23" } : {};
  try {
    const day = (at) => new Intl.DateTimeFormat("en-CA", { timeZone, dateStyle: "short" }).format(new Date(at));
    const options =
      day(ms) === day(nowMs) ? { timeStyle: "short" } : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
    return new Intl.DateTimeFormat(locale(), { ...options, timeZone, ...hourCycle }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  }
}

function tick(outcome) {
  const known = OUTCOMES[outcome] ?? OUTCOMES.pending;
  return h(
    "span",
    { class: `tick-status tick-${outcome}`, dataset: { testid: "tick", outcome } },
    h("span", { class: "tick", attrs: { "aria-hidden": "true" }, text: known.tick }),
    h("span", { class: "tick-label", text: t(known.label) }),
  );
}

/**
 * The report section. `state`: {view, error, filter}; `actions`:
 * {setFilter(name), exportReport(), resend()} (resend only when the blast can
 * be sent again).
 */
export function reportView(blast, state, actions) {
  if (state.error) return errorPanel(state.error);
  const view = state.view;
  if (!view) return h("p", { class: "progress", text: t("Loading the report…") });
  const filter = FILTERS.find(([name]) => name === state.filter) ?? FILTERS[0];
  const rows = view.rows.filter(filter[2]);
  const counted = (name, test) => (name === "all" ? view.rows.length : view.rows.filter(test).length);
  const canResend = blast.resendable > 0 && (blast.state === "completed" || blast.state === "cancelled");
  const resendHere = canResend && (filter[0] === "failed" || filter[0] === "unknown");
  const zone = zoneName(blast.timeZone);
  return h(
    "section",
    { class: "report stack", dataset: { testid: "report", filter: filter[0] } },
    h(
      "div",
      { class: "row report-top" },
      h("p", {
        class: "muted",
        text:
          view.total > view.rows.length
            ? t("The first {shown} of {total} recipients; the export has them all.", {
                shown: count(view.rows.length),
                total: count(view.total),
              })
            : plural(view.total, "recipient"),
      }),
      h(
        "button",
        { class: "button", attrs: { type: "button" }, dataset: { testid: "export" }, on: { click: actions.exportReport } },
        t("Export…"),
      ),
    ),
    h(
      "div",
      { class: "row report-filters", attrs: { role: "group", "aria-label": t("Show") } },
      FILTERS.map(([name, label, test]) =>
        h(
          "button",
          {
            class: `filter-button${name === filter[0] ? " selected" : ""}`,
            attrs: { type: "button", "aria-pressed": String(name === filter[0]) },
            dataset: { testid: "report-filter", filter: name },
            on: { click: () => actions.setFilter(name) },
          },
          t("{label} ({n})", { label: t(label), n: count(counted(name, test)) }),
        ),
      ),
    ),
    resendHere
      ? h(
          "div",
          { class: "row report-resend" },
          h("p", {
            class: "muted",
            text: t(
              "“Send again” makes a new blast to the {recipients} whose message failed or whose fate is unknown (not to anyone on the do-not-contact list).",
              { recipients: plural(blast.resendable, "recipient") },
            ),
          }),
          h(
            "button",
            { class: "button primary", attrs: { type: "button" }, dataset: { testid: "report-resend" }, on: { click: actions.resend } },
            t("Send again"),
          ),
        )
      : null,
    zone ? h("p", { class: "muted report-zone", dataset: { testid: "report-zone" }, text: t("Times in {zone}.", { zone }) }) : null,
    rows.length === 0
      ? h("p", { class: "muted", dataset: { testid: "report-empty" }, text: t("No recipients here.") })
      : h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "preview report-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                [t("Customer"), t("Status"), t("Reason"), t("Sent at"), t("Message")].map((text) =>
                  h("th", { attrs: { scope: "col" }, text }),
                ),
              ),
            ),
            h(
              "tbody",
              {},
              rows.map((row) =>
                h(
                  "tr",
                  { dataset: { outcome: row.outcome } },
                  h(
                    "td",
                    { class: "customer-cell" },
                    h("span", { class: "customer-name", dataset: { testid: "customer-name" }, text: row.name ?? "" }),
                    h("span", { class: row.name ? "muted customer-phone" : "customer-phone", text: row.phone }),
                  ),
                  h("td", { class: "status-cell" }, tick(row.outcome)),
                  h("td", { text: row.errorCode || row.errorDetail ? deliveryText(row.errorCode, row.errorDetail) : "" }),
                  h("td", { class: "time-cell", text: rowTime(row.sentAt, blast.timeZone) }),
                  h("td", { class: "message-cell", text: row.text ?? "" }),
                ),
              ),
            ),
          ),
        ),
  );
}
