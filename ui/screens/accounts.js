// Accounts: the WhatsApp numbers Blastdesk sends from. One "Link WhatsApp"
// shows a large QR code at once with the phone's steps beside it (or a
// pairing code, one click away), then a success state that says what to do
// next; each number's state, with what to do about it, and rename, log out,
// reconnect and remove. The welcome links through the same `startLinking`.
//
// Test ids: `link-whatsapp`, `link-panel` (data-mode), `qr` (data-payload),
// `link-by-phone`, `link-by-qr`, `link-phone`, `get-pair-code`, `pair-code`,
// `cancel-link`, `relink`, `link-success`, `accept-name` (data-name),
// `first-blast`, `done-linking`, `account-card` (data-status), `link`,
// `reconnect`, `logout`, `rename`, `remove`, `rename-name`, `rename-unit`,
// `rename-save`, `rehearsal-note`.

import { t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { errorPanel, h, present, screenHeader } from "../view.js";
import { ask } from "../components/dialog.js";
import { LINKED, RECONNECTABLE, statusAdvice, statusBadge } from "../components/account-status.js";
import { zoneName } from "../format.js";

let accounts = [];
/** The link under way: {accountId, mode: "qr" | "phone", qr: {svg, payload} | null, scanned, phone}. */
let linking = null;
/** The account just linked, whose success is shown until dismissed. */
let justLinked = null;
/** WhatsApp profile names, by account id, as WhatsApp sent them. */
const profileNames = new Map();
let renaming = null; // accountId
let notice = null; // ApiError
let root = null;

// One subscription for the app's lifetime (the welcome links through here too).
api.on("account", (event) => {
  if (event.kind === "qr") {
    if (linking?.accountId !== event.accountId) return;
    linking.qr = { svg: event.svg, payload: event.payload };
    // Typing a number: the QR code changing behind it does not redraw the form.
    if (linking.mode === "qr") update();
    return;
  }
  if (event.kind === "profileName") {
    profileNames.set(event.accountId, event.name);
    return update();
  }
  if (event.kind !== "status") return;
  const account = accounts.find((a) => a.id === event.accountId);
  if (account) account.status = event.status;
  const status = event.status.status;
  if (linking?.accountId === event.accountId) {
    if (status === "connecting" && linking.qr) linking.scanned = true;
    if (status === "connected") {
      justLinked = linking.accountId;
      linking = null;
    }
  }
  // Linked: the number is now known.
  if (status === "connected" || !account) return reload();
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

/** Runs `action`, shows its failure, reads the accounts again and tells the sidebar. */
async function act(action) {
  notice = null;
  try {
    await action();
  } catch (error) {
    notice = ApiError.from(error);
  }
  await reload();
  window.dispatchEvent(new Event("blastdesk:accounts"));
}

/**
 * Starts linking, as the Accounts screen and the welcome do: `accountId`'s
 * account, or a new one (named "WhatsApp 1", ... until the person names it;
 * an account never linked is used again instead of adding another).
 * QR codes then arrive as events; the Accounts screen shows them.
 */
export async function startLinking(accountId = null, phone = null) {
  justLinked = null;
  renaming = null;
  await act(async () => {
    let id = accountId;
    if (id === null) {
      const listed = await api.listAccounts();
      const unused = listed.find((a) => a.kind === "whatsapp" && a.status.status === "unlinked" && !a.phone);
      id = unused ? unused.id : (await api.addAccount(null, null)).id;
    }
    linking = { accountId: id, mode: phone ? "phone" : "qr", qr: null, scanned: false, phone: phone ?? "", asked: Boolean(phone) };
    try {
      await api.linkAccount(id, phone);
    } catch (error) {
      if (!phone) linking = null;
      throw error;
    }
  });
}

/** Gives the link up: the account is unlinked again and its card offers "Link". */
function cancelLinking() {
  const was = linking;
  linking = null;
  if (was?.accountId === undefined) return;
  act(async () => {
    // The phone had accepted it already: the link goes on to its success.
    if (!(await api.cancelLink(was.accountId))) linking = was;
  });
}

/** A logout (or a removal) that could not reach WhatsApp says what is left to do. */
async function logoutAct(action) {
  await act(async () => {
    if ((await action()) === false) {
      throw new ApiError(
        "not_connected",
        t(
          "Blastdesk could not reach WhatsApp to log out, so your phone still lists this device: on the phone, open WhatsApp > Linked devices and log out “Blastdesk” there. Its keys are deleted here.",
        ),
      );
    }
  });
}

const SVG = "http://www.w3.org/2000/svg";

/** Small line drawings for the phone's steps. */
const STEP_ICONS = {
  phone: "M8 2.5h8a1.5 1.5 0 0 1 1.5 1.5v16a1.5 1.5 0 0 1-1.5 1.5H8A1.5 1.5 0 0 1 6.5 20V4A1.5 1.5 0 0 1 8 2.5zM11 18.5h2",
  menu: "M12 5.5v.01M12 12v.01M12 18.5v.01",
  devices: "M3 5.5h13v9H3zM1.5 18h16M19 8.5h3.5v10H19z",
  add: "M12 5v14M5 12h14",
  scan: "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5M9 9h6v6H9z",
  check: "M5 12.5l4.5 4.5L19 7.5",
  keypad: "M6 6h.01M12 6h.01M18 6h.01M6 12h.01M12 12h.01M18 12h.01M6 18h.01M12 18h.01M18 18h.01",
};

function stepIcon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("step-icon");
  if (name === "menu" || name === "keypad") svg.classList.add("dots");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", STEP_ICONS[name]);
  svg.append(path);
  return svg;
}

/** The phone's steps, as WhatsApp names them. */
function steps(mode) {
  const items = [
    ["phone", t("Open WhatsApp on your phone.")],
    ["menu", t("Tap Menu ⋮ (Android) or Settings (iPhone).")],
    ["devices", t("Tap Linked devices.")],
    ["add", t("Tap Link a device.")],
    mode === "phone"
      ? ["keypad", t("Tap Link with phone number instead, then type the code shown here.")]
      : ["scan", t("Point your phone at this screen to scan the code.")],
  ];
  return h(
    "ol",
    { class: "link-steps", dataset: { testid: "link-steps" } },
    items.map(([icon, text], i) =>
      h(
        "li",
        {},
        h("span", { class: "step-badge", attrs: { "aria-hidden": "true" } }, stepIcon(icon)),
        h("span", { class: "step-text" }, h("span", { class: "link-step-no", text: `${i + 1}. ` }), text),
      ),
    ),
  );
}

function qrBox(account) {
  const status = account?.status?.status;
  // Ended, or WhatsApp cannot be reached: why, and a new attempt.
  if (status === "link_failed" || status === "disconnected") {
    return h(
      "div",
      { class: "code-box code-message" },
      h("p", { attrs: { role: "status" }, text: statusAdvice(account) }),
      h(
        "button",
        {
          class: "button primary",
          attrs: { type: "button" },
          dataset: { testid: "relink" },
          on: { click: () => startLinking(account.id) },
        },
        t("Try again"),
      ),
    );
  }
  if (linking.scanned) {
    return h(
      "div",
      { class: "code-box code-message" },
      h("p", { class: "progress", attrs: { role: "status" }, text: t("Scanned. Finishing the link…") }),
    );
  }
  if (!linking.qr) {
    return h(
      "div",
      { class: "code-box code-message" },
      h("p", { class: "progress", attrs: { role: "status" }, text: t("Preparing the code…") }),
    );
  }
  return h(
    "div",
    { class: "code-box" },
    h("img", {
      class: "qr-image",
      attrs: {
        src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(linking.qr.svg)}`,
        alt: t("QR code to scan with WhatsApp on your phone"),
        width: "240",
        height: "240",
      },
      // What the image encodes, as the image shows it (tests scan it).
      dataset: { testid: "qr", payload: linking.qr.payload ?? "" },
    }),
  );
}

function phoneBox(account) {
  const status = account?.status;
  if (status?.status === "awaiting_pair_code") {
    return h(
      "div",
      { class: "code-box code-message" },
      h("p", { class: "muted", text: t("Type this code on your phone:") }),
      // Shown as WhatsApp shows it: two groups of four.
      h("p", {
        class: "pair-code",
        dataset: { testid: "pair-code" },
        text: /^\w{8}$/.test(status.code) ? `${status.code.slice(0, 4)}-${status.code.slice(4)}` : status.code,
      }),
    );
  }
  if (status?.status === "link_failed" || status?.status === "disconnected") return qrBox(account);
  if (linking.scanned) return qrBox(account);
  const input = h("input", {
    attrs: { id: "link-phone", type: "tel", autocomplete: "tel", placeholder: "0812 3456 7890", value: linking.phone },
    dataset: { testid: "link-phone" },
    on: {
      input: (e) => {
        linking.phone = e.target.value;
      },
    },
  });
  return h(
    "form",
    {
      class: "code-box code-form stack",
      on: {
        submit: (e) => {
          e.preventDefault();
          startLinking(linking.accountId, input.value);
        },
      },
    },
    h("label", { class: "field-label", attrs: { for: "link-phone" }, text: t("Your WhatsApp number") }),
    input,
    h(
      "button",
      {
        class: "button primary",
        attrs: { type: "submit", disabled: linking.asked && status?.status === "connecting" ? "disabled" : undefined },
        dataset: { testid: "get-pair-code" },
      },
      t("Get a pairing code"),
    ),
  );
}

/** The link under way: the code (QR or pairing) beside the phone's steps. */
function linkPanel(account) {
  const byPhone = linking.mode === "phone";
  const other = byPhone
    ? h(
        "button",
        {
          class: "button link",
          attrs: { type: "button" },
          dataset: { testid: "link-by-qr" },
          on: { click: () => startLinking(linking.accountId) },
        },
        t("Link with a QR code instead"),
      )
    : h(
        "button",
        {
          class: "button link",
          attrs: { type: "button" },
          dataset: { testid: "link-by-phone" },
          on: {
            click: () => {
              linking.mode = "phone";
              update();
              document.getElementById("link-phone")?.focus();
            },
          },
        },
        t("Link with phone number instead"),
      );
  return h(
    "section",
    { class: "link-panel", dataset: { testid: "link-panel", mode: linking.mode, accountId: String(linking.accountId) } },
    h("div", { class: "link-code" }, byPhone ? phoneBox(account) : qrBox(account), h("p", { class: "link-other" }, other)),
    h("div", { class: "link-side" }, steps(linking.mode)),
  );
}

/** Linked: the number, what to do next, and the name WhatsApp suggests. */
function successPanel(account) {
  const suggested = profileNames.get(account.id) ?? account.phone;
  return h(
    "section",
    { class: "card link-success", attrs: { role: "status" }, dataset: { testid: "link-success", accountId: String(account.id) } },
    h(
      "div",
      { class: "success-head" },
      h("span", { class: "success-mark", attrs: { "aria-hidden": "true" } }, stepIcon("check")),
      h(
        "div",
        {},
        h("h2", { text: t("Linked: {phone}", { phone: account.phone ?? account.name }) }),
        h("p", { class: "muted", text: t("Blastdesk sends from this number now, at a safe pace.") }),
      ),
    ),
    renaming === account.id
      ? renameForm(account)
      : h(
          "div",
          { class: "row actions" },
          h(
            "a",
            {
              class: "button primary",
              attrs: { href: "#/new-blast" },
              dataset: { testid: "first-blast" },
              on: {
                click: () => {
                  justLinked = null;
                },
              },
            },
            t("Create your first blast"),
          ),
          suggested && suggested !== account.name
            ? h(
                "button",
                {
                  class: "button",
                  attrs: { type: "button" },
                  dataset: { testid: "accept-name", name: suggested },
                  on: { click: () => act(() => api.renameAccount(account.id, suggested, account.businessUnit ?? "")) },
                },
                t("Name it “{name}”", { name: suggested }),
              )
            : null,
          h(
            "button",
            {
              class: "button",
              attrs: { type: "button" },
              dataset: { testid: "rename" },
              on: {
                click: () => {
                  renaming = account.id;
                  update();
                },
              },
            },
            t("Rename"),
          ),
          h(
            "button",
            {
              class: "button link",
              attrs: { type: "button" },
              dataset: { testid: "done-linking" },
              on: {
                click: () => {
                  justLinked = null;
                  update();
                },
              },
            },
            t("Done"),
          ),
        ),
  );
}

function card(account) {
  const s = account.status.status;
  const linked = LINKED.includes(s);
  const button = (text, testid, onClick, cls = "button") =>
    h("button", { class: cls, attrs: { type: "button" }, dataset: { testid }, on: { click: onClick } }, text);
  const detail = statusAdvice(account);
  const needsYou =
    account.needsAttention ||
    ["link_failed", "disconnected", "logged_out", "replaced", "temporarily_banned", "locked", "outdated"].includes(s);
  const where = [account.phone, account.businessUnit, zoneName(account.timeZone)].filter(Boolean).join(" · ");
  return h(
    "article",
    { class: "card account", dataset: { testid: "account-card", accountId: String(account.id), status: s } },
    h("header", { class: "row account-head" }, h("h2", { text: account.name }), statusBadge(account)),
    where ? h("p", { class: "muted account-where", dataset: { testid: "account-where" }, text: where }) : null,
    detail
      ? h("p", { class: needsYou ? "account-advice needs-you" : "account-advice", dataset: { testid: "account-advice" }, text: detail })
      : null,
    renaming === account.id && justLinked !== account.id ? renameForm(account) : null,
    h(
      "div",
      { class: "row actions" },
      linked
        ? null
        : // A locked number cannot be linked until WhatsApp unlocks it: not offered as the fix.
          button(
            s === "locked" ? t("Unlocked by WhatsApp? Link again") : t("Link"),
            "link",
            () => startLinking(account.id),
            s === "locked" ? "button" : "button primary",
          ),
      RECONNECTABLE.includes(s)
        ? button(t("Reconnect now"), "reconnect", () => act(() => api.reconnectAccount(account.id)), "button primary")
        : null,
      linked ? button(t("Log out"), "logout", () => logOut(account)) : null,
      button(t("Rename"), "rename", () => {
        renaming = account.id;
        update();
      }),
      button(t("Remove"), "remove", () => remove(account), "button danger"),
    ),
  );
}

async function logOut(account) {
  const yes = await ask({
    title: t("Log “{name}” out? Its blasts pause until you link it again.", { name: account.name }),
    confirm: t("Log out"),
    kind: "logout-account",
  }).catch(() => false);
  if (yes) logoutAct(() => api.logoutAccount(account.id));
}

async function remove(account) {
  const yes = await ask({
    title: t("Remove “{name}”? Its blasts and reports stay.", { name: account.name }),
    confirm: t("Remove"),
    danger: true,
    kind: "remove-account",
  }).catch(() => false);
  if (!yes) return;
  if (linking?.accountId === account.id) linking = null;
  if (justLinked === account.id) justLinked = null;
  logoutAct(() => api.removeAccount(account.id));
}

function renameForm(account) {
  const name = h("input", { attrs: { type: "text", value: account.name, "aria-label": t("Name") }, dataset: { testid: "rename-name" } });
  const unit = h("input", {
    attrs: { type: "text", value: account.businessUnit ?? "", "aria-label": t("Business unit"), placeholder: t("Business unit") },
    dataset: { testid: "rename-unit" },
  });
  return h(
    "form",
    {
      class: "row rename-form",
      on: {
        submit: (e) => {
          e.preventDefault();
          renaming = null;
          act(() => api.renameAccount(account.id, name.value, unit.value));
        },
      },
    },
    name,
    unit,
    h("button", { class: "button primary", attrs: { type: "submit" }, dataset: { testid: "rename-save" } }, t("Save")),
  );
}

function linkButton(text = t("Link WhatsApp"), cls = "button primary") {
  return h(
    "button",
    { class: cls, attrs: { type: "button" }, dataset: { testid: "link-whatsapp" }, on: { click: () => startLinking() } },
    text,
  );
}

/** With no number yet: what linking does, and the one action. */
function hero() {
  return h(
    "section",
    { class: "empty-state link-hero", dataset: { testid: "empty-state" } },
    h("h2", { text: t("Link your WhatsApp") }),
    h("p", {
      text: t(
        "Link your own WhatsApp number by scanning a QR code with your phone, as you would for WhatsApp on a computer. Blastdesk then sends from that number.",
      ),
    }),
    linkButton(),
    h(
      "ul",
      { class: "points" },
      h("li", { text: t("Use a pairing code instead of a QR code if scanning is awkward") }),
      h("li", { text: t("See at a glance which numbers are connected, and which need you") }),
    ),
  );
}

function rehearsalNote() {
  if (!accounts.some((a) => a.kind === "simulated")) return null;
  return h(
    "p",
    { class: "rehearsal-note muted", dataset: { testid: "rehearsal-note" } },
    h("strong", { text: t("Rehearsal (practice, sends nothing)") }),
    " ",
    t("Always ready under New blast, to try a blast without sending anything."),
  );
}

function render() {
  const whatsapp = accounts.filter((a) => a.kind === "whatsapp");
  if (linking) {
    const account = accounts.find((a) => a.id === linking.accountId);
    return h(
      "div",
      { class: "linking" },
      h(
        "header",
        { class: "screen-header linking-header" },
        h("h1", { text: t("Link WhatsApp"), attrs: { tabindex: "-1" } }),
        h(
          "button",
          { class: "button", attrs: { type: "button" }, dataset: { testid: "cancel-link" }, on: { click: cancelLinking } },
          t("Cancel"),
        ),
      ),
      ...present(notice ? errorPanel(notice) : null),
      linkPanel(account),
    );
  }
  const success = whatsapp.find((a) => a.id === justLinked);
  return h(
    "div",
    { class: "stack accounts" },
    screenHeader(t("Accounts"), t("The WhatsApp numbers Blastdesk sends from.")),
    ...present(
      notice ? errorPanel(notice) : null,
      success ? successPanel(success) : null,
      whatsapp.length === 0 ? hero() : null,
      whatsapp.length ? h("div", { class: "stack", dataset: { testid: "account-list" } }, whatsapp.map(card)) : null,
      whatsapp.length ? h("p", {}, linkButton(t("Link another WhatsApp number"), "button")) : null,
      rehearsalNote(),
    ),
  );
}

function update() {
  if (!root?.isConnected) return;
  const focused = document.activeElement?.id;
  root.replaceChildren(render());
  if (focused) root.querySelector(`#${focused}`)?.focus();
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
    // A link under way elsewhere (another window's session) that ended: nothing to show.
    if (linking && !accounts.some((a) => a.id === linking.accountId)) linking = null;
    root = h("div", {});
    root.replaceChildren(render());
    return root;
  },
};
