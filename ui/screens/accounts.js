// Accounts: the WhatsApp numbers Blastdesk sends from. Add one, link it by
// scanning a QR code (or typing a pairing code on the phone), and follow
// its status live; rename, log out or remove it.

import { N_, t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { emptyState, errorPanel, h, present, screenHeader } from "../view.js";
import { formatTime } from "./pacing-view.js";

let accounts = [];
let linking = null; // {accountId, qr: {svg, expiresAtMs} | null, byPhone: bool}
let renaming = null; // accountId
let notice = null; // ApiError
let root = null;
let ticker = null;

const LABELS = {
  unlinked: N_("Not linked"),
  awaiting_qr: N_("Waiting for the QR code to be scanned"),
  awaiting_pair_code: N_("Waiting for the code to be typed on the phone"),
  link_failed: N_("Not linked"),
  connecting: N_("Connecting…"),
  connected: N_("Connected"),
  disconnected: N_("Disconnected"),
  logged_out: N_("Logged out"),
  replaced: N_("Replaced by another session"),
  temporarily_banned: N_("Temporarily banned"),
  locked: N_("Banned by WhatsApp"),
  outdated: N_("Blastdesk needs an update"),
};

function statusDetail(account) {
  const s = account.status;
  switch (s.status) {
    case "disconnected":
      return t("{problem}. Next attempt {time}.", { problem: s.offline ? t("Cannot reach WhatsApp") : s.reason, time: formatTime(s.nextAttemptAtMs, account.timeZone) });
    case "link_failed":
      return t("{reason} Try again.", { reason: s.reason });
    case "logged_out":
      return s.by === "you" ? t("You logged it out. Link it again to send.") : t("It was logged out from the phone. Link it again to send.");
    case "temporarily_banned":
      return t("WhatsApp banned it until {time}. Its blasts are paused; it reconnects by itself then.", { time: formatTime(s.untilMs, account.timeZone) });
    case "locked":
      return [s.message ? `“${s.message}”` : null, t("WhatsApp has locked this number. Open WhatsApp on the phone to request a review; linking again will not work until WhatsApp unlocks it. Its blasts are paused.")].filter(Boolean).join(" ");
    case "replaced":
      return t("WhatsApp Web or another app took over. Reconnect to send from Blastdesk again (the other one is then disconnected).");
    case "outdated":
      return t("WhatsApp no longer accepts this version, even WhatsApp's current one. Update Blastdesk, then reconnect.");
    default:
      return null;
  }
}

// One subscription for the app's lifetime.
api.on("account", (event) => {
  const account = accounts.find((a) => a.id === event.accountId);
  if (event.kind === "qr") {
    if (linking?.accountId === event.accountId) linking.qr = { svg: event.svg, payload: event.payload, expiresAtMs: event.expiresAtMs };
  } else if (account) {
    account.status = event.status;
    account.needsAttention = ["link_failed", "disconnected", "logged_out", "replaced", "temporarily_banned", "locked", "outdated"].includes(event.status.status);
    if (linking?.accountId === event.accountId && !["awaiting_qr", "connecting", "awaiting_pair_code"].includes(event.status.status)) {
      linking.qr = null;
      if (event.status.status === "connected") linking = null;
    }
    // Linked: the number is now known.
    if (event.status.status === "connected") return reload();
  }
  update();
});

async function reload() {
  try {
    accounts = await api.listAccounts();
  } catch (error) {
    notice = ApiError.from(error);
  }
  update();
}

async function act(action) {
  notice = null;
  try {
    await action();
  } catch (error) {
    notice = ApiError.from(error);
  }
  await reload();
}

/** A logout (or a removal) that could not reach WhatsApp says what is left to do. */
async function logoutAct(action) {
  await act(async () => {
    if ((await action()) === false) {
      throw new ApiError("not_connected", t("Blastdesk could not reach WhatsApp to log out, so your phone still lists this device: on the phone, open WhatsApp > Linked devices and log out “Blastdesk” there. Its keys are deleted here."));
    }
  });
}

function addForm() {
  const name = h("input", { attrs: { id: "account-name", type: "text", placeholder: "Toko Pusat", required: "required" } });
  const unit = h("input", { attrs: { id: "account-unit", type: "text", placeholder: t("(optional)") } });
  const form = h(
    "form",
    { class: "card stack", dataset: { testid: "add-account" } },
    h("h2", { text: t("Add a WhatsApp account") }),
    h("label", { class: "field-label", attrs: { for: "account-name" }, text: t("Name") }),
    name,
    h("label", { class: "field-label", attrs: { for: "account-unit" }, text: t("Business unit") }),
    unit,
    h("button", { class: "button primary", attrs: { type: "submit" } }, t("Add account")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      const added = await api.addAccount(name.value, unit.value);
      linking = { accountId: added.id, qr: null, byPhone: false };
      await api.linkAccount(added.id);
    });
  });
  return form;
}

function secondsLeft(ms) {
  return Math.max(0, Math.round((ms - Date.now()) / 1000));
}

function linkPanel(account) {
  const status = account.status;
  const steps = h(
    "ol",
    { class: "steps" },
    h("li", { text: t("Open WhatsApp on your phone.") }),
    h("li", { text: t("Tap Settings (iPhone) or the ⋮ menu (Android), then Linked devices.") }),
    h("li", { text: linking.byPhone ? t("Tap Link a device, then Link with phone number instead.") : t("Tap Link a device and point the phone at this code.") }),
  );
  let body;
  if (status.status === "awaiting_pair_code") {
    body = h("p", { class: "pair-code", dataset: { testid: "pair-code" }, text: status.code });
  } else if (linking.qr) {
    body = h(
      "div",
      { class: "qr" },
      h("img", {
        attrs: { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(linking.qr.svg)}`, alt: t("QR code to scan with WhatsApp on your phone"), width: "256", height: "256" },
        // What the image encodes, as the image shows it (tests scan it).
        dataset: { testid: "qr", payload: linking.qr.payload ?? "" },
      }),
      h("p", { class: "muted", dataset: { testid: "qr-countdown", expires: String(linking.qr.expiresAtMs) }, text: t("This code changes in {n} s.", { n: secondsLeft(linking.qr.expiresAtMs) }) }),
    );
  } else {
    body = h("p", { class: "progress", attrs: { role: "status" }, text: t("Preparing the code…") });
  }
  const phone = h("input", { attrs: { type: "tel", placeholder: "0812 3456 7890", "aria-label": t("Your WhatsApp number") } });
  return h(
    "section",
    { class: "link-panel stack", dataset: { testid: "link-panel" } },
    h("h3", { text: t("Link “{name}”", { name: account.name }) }),
    steps,
    body,
    linking.byPhone
      ? null
      : h(
          "form",
          {
            class: "row",
            on: {
              submit: (e) => {
                e.preventDefault();
                linking = { accountId: account.id, qr: null, byPhone: true };
                act(() => api.linkAccount(account.id, phone.value));
              },
            },
          },
          h("span", { class: "muted", text: t("Or get a code to type on the phone:") }),
          phone,
          h("button", { class: "button", attrs: { type: "submit" } }, t("Get a pairing code")),
        ),
    h("button", { class: "button link", attrs: { type: "button" }, on: { click: () => { linking = null; update(); } } }, t("Close")),
  );
}

function card(account) {
  const s = account.status;
  const linked = ["connected", "connecting", "disconnected", "temporarily_banned"].includes(s.status);
  const button = (text, testid, onClick, cls = "button") =>
    h("button", { class: cls, attrs: { type: "button" }, dataset: { testid }, on: { click: onClick } }, text);
  const detail = statusDetail(account);
  return h(
    "article",
    { class: "card account", dataset: { testid: "account-card", accountId: String(account.id), status: s.status } },
    h(
      "header",
      { class: "row" },
      h("h2", { text: account.name }),
      account.businessUnit ? h("span", { class: "badge", text: account.businessUnit }) : null,
      account.kind === "simulated" ? h("span", { class: "badge", text: t("Rehearsal") }) : null,
      h("span", { class: `badge ${account.needsAttention ? "badge-paused" : s.status === "connected" ? "badge-completed" : ""}`, dataset: { testid: "account-status" }, text: t(LABELS[s.status] ?? s.status) }),
    ),
    h("p", { class: "muted", text: account.phone ? `${account.phone} · ${account.timeZone}` : account.timeZone }),
    detail ? h("p", { class: account.needsAttention ? "pause-reason" : "muted", attrs: { role: "status" }, text: detail }) : null,
    renaming === account.id ? renameForm(account) : null,
    account.kind === "whatsapp"
      ? h(
          "div",
          { class: "row actions" },
          linked || ["awaiting_qr", "awaiting_pair_code"].includes(s.status)
            ? null
            // A locked number cannot be linked until WhatsApp unlocks it: not offered as the fix.
            : button(s.status === "locked" ? t("Unlocked by WhatsApp? Link again") : t("Link account"), "link", () => { linking = { accountId: account.id, qr: null, byPhone: false }; act(() => api.linkAccount(account.id)); }, s.status === "locked" ? "button" : "button primary"),
          ["disconnected", "replaced", "outdated"].includes(s.status) ? button(t("Reconnect now"), "reconnect", () => act(() => api.reconnectAccount(account.id)), "button primary") : null,
          linked ? button(t("Log out"), "logout", () => { if (confirm(t("Log “{name}” out? Its blasts pause until you link it again.", { name: account.name }))) logoutAct(() => api.logoutAccount(account.id)); }) : null,
          button(t("Rename"), "rename", () => { renaming = account.id; update(); }),
          button(t("Remove"), "remove", () => { if (confirm(t("Remove “{name}”? Its blasts and reports stay.", { name: account.name }))) logoutAct(() => api.removeAccount(account.id)); }, "button danger"),
        )
      : null,
    linking?.accountId === account.id ? linkPanel(account) : null,
  );
}

function renameForm(account) {
  const name = h("input", { attrs: { type: "text", value: account.name, "aria-label": t("Name") } });
  const unit = h("input", { attrs: { type: "text", value: account.businessUnit ?? "", "aria-label": t("Business unit") } });
  return h(
    "form",
    { class: "row", on: { submit: (e) => { e.preventDefault(); renaming = null; act(() => api.renameAccount(account.id, name.value, unit.value)); } } },
    name,
    unit,
    h("button", { class: "button primary", attrs: { type: "submit" } }, t("Save")),
  );
}

function render() {
  const whatsapp = accounts.filter((a) => a.kind === "whatsapp");
  return h(
    "div",
    { class: "stack" },
    screenHeader(t("Accounts"), t("The WhatsApp numbers Blastdesk sends from.")),
    ...present(
      notice ? errorPanel(notice) : null,
      whatsapp.length === 0
        ? emptyState({
            title: t("No WhatsApp account linked yet"),
            body: t("Link your own WhatsApp number by scanning a QR code with your phone, as you would for WhatsApp on a computer. Blastdesk then sends from that number."),
            points: [
              t("Link one or several numbers, each with a name you choose"),
              t("Use a pairing code instead of a QR code if scanning is awkward"),
              t("See at a glance which numbers are connected, and which need you"),
            ],
          })
        : null,
      h("div", { class: "stack", dataset: { testid: "account-list" } }, accounts.map(card)),
      addForm(),
    ),
  );
}

function update() {
  if (!root?.isConnected) return;
  const focused = document.activeElement?.id;
  root.replaceChildren(render());
  if (focused) root.querySelector(`#${focused}`)?.focus();
}

// The QR code's countdown, once a second while the screen shows one.
function tick() {
  const countdown = root?.querySelector("[data-testid=qr-countdown]");
  if (countdown) countdown.textContent = t("This code changes in {n} s.", { n: secondsLeft(Number(countdown.dataset.expires)) });
}

export default {
  id: "accounts",
  get title() {
    return t("Accounts");
  },
  async render() {
    try {
      accounts = await api.listAccounts();
    } catch (error) {
      return errorPanel(ApiError.from(error));
    }
    root = h("div", {});
    root.replaceChildren(render());
    clearInterval(ticker);
    ticker = setInterval(tick, 1000);
    return root;
  },
};
