// Updates of Blastdesk itself: the banner above every screen when one is
// waiting (prominent when the release says it is important, such as a
// WhatsApp change that breaks linking), and the Settings card that checks,
// installs and says which versions run. The shell does the work
// (src-tauri/updates.rs); statuses arrive as "update" events.

import { N_, locale, t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { h, present } from "../view.js";

// biome-ignore format: each marked text stays on one line for tests/i18n.rs
const REFUSALS = {
  older: N_("The update server offers Blastdesk {offered}, older than this {current}: it was not installed. Nothing changed."),
  bad_signature: N_("The download of Blastdesk {version} is not signed with Blastdesk's key: it was not installed. Nothing changed."),
  wrong_version: N_("The download announced as Blastdesk {version} was signed for another version: it was not installed. Nothing changed."),
  not_an_installer: N_("The download of Blastdesk {version} is not an installer for this system: it was not installed. Nothing changed."),
  not_installed: N_("This copy of Blastdesk was not installed from a Blastdesk package, so it cannot update itself to {version}: install the new version from the download page."),
};

// biome-ignore format: each marked text stays on one line for tests/i18n.rs
const FAILURES = {
  check: N_("Could not reach the update server (is this computer offline?). Blastdesk tries again later; you can also check now."),
  download: N_("The update could not be downloaded: {detail}. Nothing changed."),
  install: N_("The update could not be installed: {detail}. Blastdesk restarts on this version; your blasts go on."),
};

// biome-ignore format: each marked text stays on one line for tests/i18n.rs
const LONG = {
  finishing: N_("Blastdesk {version} is downloaded and its signature checked. Each blast finishes the message it is sending, then the update is installed and Blastdesk restarts; sending goes on after the restart."),
  installNote: N_("Blasts being sent pause after the message in hand and go on after the restart. Nothing is sent twice."),
  automatic: N_("Look for updates by myself: when Blastdesk starts, then daily (only the version is asked; nothing about your customers is sent)"),
};

/** What the status says, in the window's language. */
export function updateText(status) {
  const version = status?.offer?.version;
  switch (status?.state) {
    case "checking":
      return t("Checking for updates…");
    case "up_to_date":
      return t("Blastdesk is up to date (checked {time}).", {
        time: new Intl.DateTimeFormat(locale(), { timeStyle: "short" }).format(new Date(status.checkedAtMs)),
      });
    case "available":
      return t("Blastdesk {version} is available.", { version });
    case "downloading": {
      const percent = status.total > 0 ? new Intl.NumberFormat(locale(), { style: "percent" }).format(status.received / status.total) : "…";
      return t("Downloading Blastdesk {version}: {percent}", { version, percent });
    }
    case "finishing":
      return t(LONG.finishing, { version });
    case "restarting":
      return t("Blastdesk {version} is installed. Restarting…", { version });
    case "refused": {
      const { reason, ...vars } = status.refusal;
      return t(REFUSALS[reason] ?? N_("The update was refused. Nothing changed."), vars);
    }
    case "failed":
      return t(FAILURES[status.stage] ?? FAILURES.check, { detail: status.detail });
    default:
      return t("Not checked for updates yet.");
  }
}

/** "Released 1 Dec 2026.", when the feed dates the release. */
function released(offer) {
  const when = offer?.date ? new Date(offer.date) : null;
  if (!when || Number.isNaN(when.getTime())) return "";
  return t("Released {date}.", { date: new Intl.DateTimeFormat(locale(), { dateStyle: "medium" }).format(when) });
}

/** Whether the banner shows this status (an older version offered, or a failed check, stays in Settings). */
function bannerWorthy(status) {
  switch (status?.state) {
    case "available":
    case "downloading":
    case "finishing":
    case "restarting":
      return true;
    case "refused":
      return status.refusal.reason !== "older";
    case "failed":
      return status.stage !== "check";
    default:
      return false;
  }
}

let current = null;
/** The version the person put off with "Later" (an important one is never put off). */
let postponed = null;
/** A refusal or failure the person has read and closed. */
let dismissed = null;
/** The Settings card's view of the status, while one is drawn. */
let cardView = null;

async function install() {
  try {
    await api.installUpdate();
  } catch (error) {
    publish({ state: "failed", stage: "install", detail: ApiError.from(error).message });
  }
}

/** A button of the banner or the card; `primary` for the one to press. */
function button(text, testid, onClick, primary = false) {
  return h(
    "button",
    { class: primary ? "button primary" : "button", attrs: { type: "button" }, dataset: { testid }, on: { click: onClick } },
    text,
  );
}

function installButton(testid) {
  const start = (event) => {
    event.currentTarget.disabled = true;
    install();
  };
  return button(t("Install and restart"), testid, start, true);
}

/** Draws the banner again (in the window's language, after it changed). */
export function renderBanner() {
  const slot = document.getElementById("update-banner");
  if (!slot) return;
  const status = current;
  const offer = status?.offer;
  const putOff = status?.state === "available" && !offer.important && postponed === offer.version;
  if (!bannerWorthy(status) || putOff || status === dismissed) {
    slot.replaceChildren();
    slot.hidden = true;
    return;
  }
  const important = Boolean(offer?.important);
  const bad = status.state === "refused" || status.state === "failed";
  slot.hidden = false;
  slot.className = `update-banner${important ? " update-important" : ""}${bad ? " update-bad" : ""}`;
  slot.replaceChildren(
    ...present(
      h(
        "div",
        { class: "update-text" },
        important
          ? h("strong", { dataset: { testid: "update-important" }, text: t("Important update: {notice}", { notice: offer.important }) })
          : null,
        h("span", { dataset: { testid: "update-banner-text" }, text: updateText(status) }),
        status.state === "available" && offer.date
          ? h("span", { class: "muted", dataset: { testid: "update-released" }, text: released(offer) })
          : null,
        status.state === "available" ? h("span", { class: "muted", text: t(LONG.installNote) }) : null,
      ),
      status.state === "available"
        ? h(
            "div",
            { class: "row" },
            installButton("install-update-banner"),
            important
              ? null
              : button(t("Later"), "postpone-update", () => {
                  postponed = offer.version;
                  renderBanner();
                }),
          )
        : null,
      bad
        ? button(t("Close"), "dismiss-update", () => {
            dismissed = status;
            renderBanner();
          })
        : null,
    ),
  );
  slot.setAttribute("role", bad || important ? "alert" : "status");
}

function publish(status) {
  current = status;
  renderBanner();
  if (cardView?.isConnected) cardView.show(status);
}

/** Shows the banner and keeps it current; call once when the window opens. */
export function mountUpdateBanner() {
  api.on("update", publish);
  // The tray's "Update available" item: the banner, even if put off.
  api.on("show-update", () => {
    postponed = null;
    renderBanner();
  });
  api
    .updateStatus()
    .then((status) => {
      if (current === null) publish(status);
    })
    .catch(() => {});
}

/** The WhatsApp Web version announced, in words (Settings → Advanced). */
export function whatsappWeb(web) {
  if (!web) return "?";
  return web.named
    ? t("{version} (set in Settings)", { version: web.named })
    : t("WhatsApp's current one, checked daily (else {version})", { version: web.fallback });
}

/** The Settings card: status, check, install, the automatic checks, the version running. */
export async function updatesCard(info) {
  let policy = "automatic";
  let problem = null;
  try {
    policy = await api.updatePolicy();
    current = current ?? (await api.updateStatus());
  } catch (error) {
    problem = ApiError.from(error).message;
  }
  const statusLine = h("p", { attrs: { role: "status" }, dataset: { testid: "update-status" } });
  const notes = h("p", { class: "muted update-notes", dataset: { testid: "update-notes" } });
  // What went wrong, in the words of the network library (English): for
  // support, folded away.
  const detailText = h("code", { dataset: { testid: "update-detail" } });
  const detail = h("details", { class: "muted" }, h("summary", { text: t("Details for support") }), detailText);
  const actions = h("div", { class: "row" });
  const check = button(t("Check for updates now"), "check-update", async () => {
    try {
      await api.checkForUpdate();
    } catch (error) {
      publish({ state: "failed", stage: "check", detail: ApiError.from(error).message });
    }
  });
  const show = (status) => {
    statusLine.textContent = problem ?? updateText(status);
    statusLine.classList.toggle("error-text", status?.state === "refused" || status?.state === "failed");
    notes.textContent = [released(status?.offer), status?.offer?.notes ?? ""].filter(Boolean).join(" ");
    notes.hidden = !notes.textContent;
    detailText.textContent = status?.state === "failed" ? status.detail : "";
    detail.hidden = status?.state !== "failed";
    check.disabled = ["checking", "downloading", "finishing", "restarting"].includes(status?.state);
    actions.replaceChildren(...present(check, status?.state === "available" ? installButton("install-update") : null));
  };
  show(current);
  const automatic = h("input", {
    attrs: { id: "update-automatic", type: "checkbox", checked: policy === "automatic" ? "checked" : undefined },
    dataset: { testid: "update-automatic" },
    on: {
      change: async (event) => {
        try {
          policy = await api.setUpdatePolicy(event.target.checked ? "automatic" : "on_request");
        } catch (error) {
          statusLine.textContent = ApiError.from(error).message;
        }
        event.target.checked = policy === "automatic";
      },
    },
  });
  const card = h(
    "section",
    { class: "card stack", attrs: { id: "updates" }, dataset: { testid: "updates-card" } },
    h("h2", { text: t("Updates") }),
    statusLine,
    detail,
    notes,
    actions,
    h("label", { class: "check" }, automatic, t(LONG.automatic)),
    h("p", {
      class: "muted",
      dataset: { testid: "update-current" },
      text: t("This is Blastdesk {version}.", { version: info?.version ?? "?" }),
    }),
  );
  cardView = {
    show,
    get isConnected() {
      return card.isConnected;
    },
  };
  return card;
}
