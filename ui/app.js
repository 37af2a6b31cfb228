// The app's frame: navigation, routing between screens, the database status.

import { api, ApiError } from "./api.js";
import { N_, setLanguage, systemLanguage, t } from "./i18n.js";
import { errorPanel, h, present } from "./view.js";
import { accountStates } from "./components/account-status.js";
import { mountUpdateBanner, renderBanner } from "./components/update-banner.js";
import accounts from "./screens/accounts.js";
import audiences, { addFiles } from "./screens/audiences.js";
import newBlast, { addFiles as addBlastFiles } from "./screens/new-blast.js";
import blasts from "./screens/blasts.js";
import schedules from "./screens/schedules.js";
import settings, { dropFiles as dropOnSettings } from "./screens/settings.js";
import doNotContact, { addFiles as addOptOutFiles } from "./screens/do-not-contact.js";
import welcome from "./screens/welcome.js";

const SCREENS = [welcome, accounts, audiences, newBlast, blasts, schedules, doNotContact, settings];
const DEFAULT_SCREEN = "new-blast";

const ICONS = {
  accounts: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8a7 7 0 0 1 14 0",
  audiences: "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zm-6 8a6 6 0 0 1 12 0m2-8a3 3 0 1 0-1-5.8M17 14a5 5 0 0 1 4 5",
  "new-blast": "M4 12l16-8-6 16-2.5-6.5L4 12zm7.5 1.5L20 4",
  blasts: "M4 20V10m6 10V4m6 16v-7m4 7H2",
  schedules: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zm0-14v5l3 2",
  settings: "M4 6h10m4 0h2M4 12h4m4 0h8M4 18h12m4 0h0M16 4v4M10 10v4M18 16v4",
  "do-not-contact": "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM5.6 5.6l12.8 12.8",
  welcome: "M12 3l2.6 5.6 6.1.7-4.5 4.2 1.2 6-5.4-3-5.4 3 1.2-6-4.5-4.2 6.1-.7z",
};

function icon(id) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("nav-icon");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[id] ?? "");
  svg.append(path);
  return svg;
}

const state = { info: null, summary: null, error: null, prefs: null };

function renderNav(current) {
  const nav = document.getElementById("nav");
  nav.replaceChildren(
    h(
      "ul",
      {},
      SCREENS.filter((screen) => screen.id !== "welcome" || !state.prefs?.welcomeDone || current === "welcome").map((screen) =>
        h(
          "li",
          {},
          h(
            "a",
            {
              class: "nav-item",
              attrs: {
                href: `#/${screen.id}`,
                "aria-current": screen.id === current ? "page" : undefined,
              },
              dataset: { screen: screen.id },
            },
            icon(screen.id),
            h("span", { text: screen.title }),
          ),
        ),
      ),
    ),
  );
}

function renderStatus() {
  const footer = document.getElementById("store-status");
  const problem = state.error ?? state.info?.storeError;
  footer.replaceChildren(
    ...present(
      problem
        ? h("span", { class: "status status-bad", dataset: { testid: "store-status" } }, t("Database unavailable"))
        : state.summary
          ? h("span", { class: "status status-ok", dataset: { testid: "store-status" } }, t("Ready"))
          : h("span", { class: "status", dataset: { testid: "store-status" } }, t("Starting…")),
      state.info ? h("span", { class: "version", text: `v${state.info.version}` }) : null,
    ),
  );
}

// The sidebar's WhatsApp numbers and their states, always in view.
let accountsShown = 0;
async function renderAccountStates() {
  const section = document.getElementById("account-states");
  if (!section) return;
  const current = ++accountsShown;
  let list;
  try {
    list = await api.listAccounts();
  } catch {
    return; // the database status in the footer says why
  }
  if (current !== accountsShown) return; // a newer read is under way
  section.setAttribute("aria-label", t("WhatsApp numbers"));
  section.replaceChildren(accountStates(list));
}
// Statuses arrive as "account" events; the Accounts screen says when it changed one.
api.on("account", (event) => {
  if (event?.kind === "status") renderAccountStates();
});
window.addEventListener("blastdesk:accounts", () => renderAccountStates());

function currentScreenId() {
  const id = location.hash.replace(/^#\//, "");
  if (SCREENS.some((s) => s.id === id)) return id;
  // The first run opens on the welcome.
  return state.prefs && !state.prefs.welcomeDone ? "welcome" : DEFAULT_SCREEN;
}

async function refresh() {
  try {
    state.info = await api.appInfo();
    state.summary = state.info.storeError ? null : await api.storeSummary();
    state.prefs = state.info.storeError ? null : await api.preferences();
    setLanguage(state.prefs?.language ?? state.prefs?.systemLanguage ?? null);
    // Where only the web view knows the system's language (Windows, macOS),
    // the tray and notifications learn it from here.
    if (state.prefs && !state.prefs.language && !state.prefs.systemLanguage) {
      api.noteWindowLanguage(systemLanguage()).catch(() => {});
    }
    state.error = null;
  } catch (error) {
    state.error = ApiError.from(error);
  }
}

let navigation = 0;

async function show({ focus }) {
  const current = ++navigation;
  await refresh();
  const id = currentScreenId();
  const screen = SCREENS.find((s) => s.id === id);
  renderStatus();
  renderBanner();
  if (!(state.error ?? state.info?.storeError)) renderAccountStates();
  const main = document.getElementById("screen");
  const problem = state.error ?? state.info?.storeError;
  renderNav(id);
  document.querySelector(".skip-link").textContent = t("Skip to content");
  const content = await screen.render({ info: state.info, summary: state.summary, prefs: state.prefs });
  if (current !== navigation) return; // the person has moved on meanwhile
  main.dataset.screen = id;
  main.replaceChildren(...present(problem ? errorPanel(problem, t("Blastdesk cannot open its database")) : null, content));
  document.title = `${screen.title} · Blastdesk`;
  if (focus) main.querySelector("h1")?.focus();
}

// A dropped file goes where the screen shown needs it: New blast's
// recipients, the Audiences import, Do not contact's opt-outs, a backup to
// restore on Settings. Elsewhere nothing is imported: the window says where
// to drop. While a drag hovers, the overlay says what will happen here (its
// words are the body's data-drop-hint, so they are translated).
const DROP_HINTS = {
  "new-blast": N_("Drop to add these customers to this blast"),
  audiences: N_("Drop to import these customers"),
  "do-not-contact": N_("Drop to add these numbers to Do not contact"),
  settings: N_("Drop a backup to restore it"),
};
const NOWHERE = N_(
  "Nothing is imported here. Drop a customer list on New blast or Audiences, opt-outs on Do not contact, a backup on Settings.",
);
function dragHover(hovering) {
  document.body.dataset.dropHint = t(DROP_HINTS[currentScreenId()] ?? NOWHERE);
  document.body.classList.toggle("drag-hover", Boolean(hovering));
}
api.on("drag-hover", dragHover);

/** Says, above the screen, why a drop did nothing. */
function dropNotice(text) {
  document.querySelector("[data-testid=drop-notice]")?.remove();
  if (!text) return;
  document
    .getElementById("screen")
    .prepend(h("p", { class: "notice notice-error drop-notice", attrs: { role: "alert" }, dataset: { testid: "drop-notice" }, text }));
}

async function filesDropped(files) {
  if (!files?.length) return;
  dropNotice(null);
  switch (currentScreenId()) {
    case "new-blast":
      return addBlastFiles(files);
    case "audiences":
      return addFiles(files);
    case "do-not-contact":
      return addOptOutFiles(files);
    case "settings":
      return dropNotice(await dropOnSettings(files));
    default:
      return dropNotice(t(NOWHERE));
  }
}
api.on("files-dropped", filesDropped);
// The same paths for the window tests, which cannot drag a file from a file
// manager: a hover, and the files they were granted (pick_files) as a drop.
// Only in a build that honours the test hooks: a shipped window hears drops
// from the shell alone.
api
  .appInfo()
  .then((info) => {
    if (!info.testHooks) return;
    window.addEventListener("blastdesk:drag-hover", (event) => dragHover(event.detail));
    window.addEventListener("blastdesk:files-dropped", (event) => filesDropped(event.detail));
  })
  .catch(() => {});

window.addEventListener("hashchange", () => show({ focus: true }));
// The language changed (Settings, the welcome) or a screen asks: draw again.
window.addEventListener("blastdesk:redraw", () => show({ focus: false }));
mountUpdateBanner();
show({ focus: false });
