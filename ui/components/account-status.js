// An account's connection state as the person reads it: a dot and a short
// label (the same in the sidebar and on the Accounts screen), and what to do
// about it. Keyed by the status's stable code, never by its text.
//
// Test ids: `account-status` (the badge), `sidebar-account` (data-status,
// data-account-id) in the sidebar list.

import { N_, currentLanguage, t } from "../i18n.js";
import { formatWhen } from "../format.js";
import { h } from "../view.js";

/** The short label of each status code. */
const LABELS = {
  unlinked: N_("Not linked"),
  awaiting_qr: N_("Linking…"),
  awaiting_pair_code: N_("Linking…"),
  link_failed: N_("Link failed"),
  connecting: N_("Connecting…"),
  connected: N_("Connected"),
  disconnected: N_("Disconnected"),
  logged_out: N_("Logged out"),
  replaced: N_("Replaced by another session"),
  temporarily_banned: N_("Temporarily banned"),
  locked: N_("Banned by WhatsApp"),
  outdated: N_("Blastdesk needs an update"),
};

/** ok: sending works; busy: on its way; bad: needs the person; idle: not linked. */
const TONES = {
  unlinked: "idle",
  awaiting_qr: "busy",
  awaiting_pair_code: "busy",
  link_failed: "bad",
  connecting: "busy",
  connected: "ok",
  disconnected: "bad",
  logged_out: "bad",
  replaced: "bad",
  temporarily_banned: "bad",
  locked: "bad",
  outdated: "bad",
};

/** The statuses in which the account has a session to log out of. */
export const LINKED = ["connected", "connecting", "disconnected", "temporarily_banned"];

/** The statuses "Reconnect now" fixes. */
export const RECONNECTABLE = ["disconnected", "replaced", "outdated"];

export function statusLabel(status) {
  return LABELS[status?.status] ? t(LABELS[status.status]) : t("Not linked");
}

export function statusTone(status) {
  return TONES[status?.status] ?? "idle";
}

/** The dot and label of an account's status. */
export function statusBadge(account) {
  const status = account.status;
  return h(
    "span",
    { class: `account-badge tone-${statusTone(status)}`, dataset: { testid: "account-status", status: status.status } },
    h("span", { class: "status-dot", attrs: { "aria-hidden": "true" } }),
    statusLabel(status),
  );
}

/**
 * The core's own words for why a link failed or a connection ended: they
 * have no code yet, so another language than English says what the state
 * means instead (the English detail stays in the logs).
 */
const coreReason = (reason, instead) => (currentLanguage() === "en" && reason ? reason : instead);

/** What happened and what to do about it, or null when all is well. */
export function statusAdvice(account) {
  const s = account.status;
  switch (s.status) {
    case "disconnected":
      return t("{problem}. Next attempt {time}.", {
        problem: s.offline ? t("Cannot reach WhatsApp") : coreReason(s.reason, t("The connection to WhatsApp ended")),
        time: formatWhen(s.nextAttemptAtMs, account.timeZone),
      });
    case "link_failed":
      return t("{reason} Try again.", { reason: coreReason(s.reason, t("The link did not complete.")) });
    case "logged_out":
      return s.by === "you"
        ? t("You logged it out. Link it again to send.")
        : t("It was logged out from the phone. Link it again to send.");
    case "temporarily_banned":
      return t("WhatsApp banned it until {time}. Its blasts are paused; it reconnects by itself then.", {
        time: formatWhen(s.untilMs, account.timeZone),
      });
    case "locked":
      return [
        s.message ? `“${s.message}”` : null,
        t(
          "WhatsApp has locked this number. Open WhatsApp on the phone to request a review; linking again will not work until WhatsApp unlocks it. Its blasts are paused.",
        ),
      ]
        .filter(Boolean)
        .join(" ");
    case "replaced":
      return t("WhatsApp Web or another app took over. Reconnect to send from Blastdesk again (the other one is then disconnected).");
    case "outdated":
      return t("WhatsApp no longer accepts this version, even WhatsApp's current one. Update Blastdesk, then reconnect.");
    default:
      return null;
  }
}

/**
 * The sidebar's list: each WhatsApp number with its state, linking to the
 * Accounts screen; with none, the way to link one.
 */
export function accountStates(accounts) {
  const whatsapp = accounts.filter((a) => a.kind === "whatsapp");
  if (whatsapp.length === 0) {
    return h(
      "a",
      { class: "account-state", attrs: { href: "#/accounts" }, dataset: { testid: "sidebar-account", status: "none" } },
      h("span", { class: "status-dot tone-idle", attrs: { "aria-hidden": "true" } }),
      h("span", { class: "account-state-text" }, h("span", { class: "account-state-name", text: t("Link your WhatsApp") })),
    );
  }
  return h(
    "ul",
    { class: "account-state-list" },
    whatsapp.map((account) =>
      h(
        "li",
        {},
        h(
          "a",
          {
            class: `account-state tone-${statusTone(account.status)}`,
            attrs: { href: "#/accounts", title: account.phone ?? undefined },
            dataset: { testid: "sidebar-account", status: account.status.status, accountId: String(account.id) },
          },
          h("span", { class: "status-dot", attrs: { "aria-hidden": "true" } }),
          h(
            "span",
            { class: "account-state-text" },
            h("span", { class: "account-state-name", text: account.name }),
            h("span", { class: "account-state-label", text: statusLabel(account.status) }),
          ),
        ),
      ),
    ),
  );
}
