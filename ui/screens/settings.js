import { N_, locale, t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { count, errorPanel, h, screenHeader } from "../view.js";
import { ask } from "../components/dialog.js";
import { languagePicker } from "./welcome.js";
import { updatesCard, whatsappWeb } from "../components/update-banner.js";

// The longer texts. tests/i18n.rs finds each marked text with its opening
// quote right after the parenthesis, which the formatter would break.
// biome-ignore format: each marked text stays on one line for tests/i18n.rs
const LONG = {
  yourData: N_("Everything Blastdesk knows is in one file in the data folder. Back it up to keep a copy; restoring replaces everything with the backup, then Blastdesk restarts. Linked WhatsApp accounts are not part of a backup: link them again after restoring on another computer."),
  onlyBackups: N_("Only a Blastdesk backup can be dropped on Settings, to restore it. To import customers, drop the file on Audiences or New blast; to add opt-outs, on Do not contact."),
};

// Countries offered first; any other stored code is added to the list.
const COUNTRIES = [
  ["ID", "Indonesia"],
  ["MY", "Malaysia"],
  ["SG", "Singapore"],
  ["BN", "Brunei"],
  ["TL", "Timor-Leste"],
  ["PH", "Philippines"],
  ["TH", "Thailand"],
  ["VN", "Vietnam"],
  ["IN", "India"],
  ["AU", "Australia"],
  ["NZ", "New Zealand"],
  ["HK", "Hong Kong"],
  ["TW", "Taiwan"],
  ["JP", "Japan"],
  ["KR", "South Korea"],
  ["SA", "Saudi Arabia"],
  ["AE", "United Arab Emirates"],
  ["NL", "Netherlands"],
  ["GB", "United Kingdom"],
  ["US", "United States"],
];

async function countryCard() {
  let current;
  try {
    current = await api.defaultCountry();
  } catch (error) {
    return errorPanel(ApiError.from(error));
  }
  const options = COUNTRIES.some(([code]) => code === current) ? COUNTRIES : [[current, current], ...COUNTRIES];
  // Country names in the window's language where the system knows them.
  let names = null;
  try {
    names = new Intl.DisplayNames([locale()], { type: "region" });
  } catch {
    names = null;
  }
  const nameOf = (code, fallback) => {
    try {
      return names?.of(code) ?? fallback;
    } catch {
      return fallback;
    }
  };
  const status = h("span", { class: "muted", attrs: { role: "status" }, dataset: { testid: "country-status" } });
  const select = h(
    "select",
    {
      attrs: { id: "default-country" },
      dataset: { testid: "default-country" },
      on: {
        change: async (event) => {
          try {
            const saved = await api.setDefaultCountry(event.target.value);
            status.textContent = t("Saved: numbers without a country code are read as {country}.", { country: saved });
          } catch (error) {
            status.textContent = ApiError.from(error).message;
          }
        },
      },
    },
    options.map(([code, name]) =>
      h("option", { attrs: { value: code, selected: code === current ? "" : undefined }, text: `${nameOf(code, name)} (${code})` }),
    ),
  );
  return h(
    "section",
    { class: "card" },
    h("h2", { text: t("Phone numbers") }),
    h("label", {
      class: "field-label",
      attrs: { for: "default-country" },
      text: t("Numbers written without a country code (like 0812…) are from"),
    }),
    h("div", { class: "row" }, select, status),
  );
}

async function startupCard() {
  let enabled = false;
  let problem = null;
  try {
    enabled = await api.startAtLogin();
  } catch (error) {
    problem = ApiError.from(error).message;
  }
  const status = h("span", { class: "muted", attrs: { role: "status" }, dataset: { testid: "login-status" }, text: problem ?? "" });
  const box = h("input", {
    attrs: { id: "start-at-login", type: "checkbox", checked: enabled ? "checked" : undefined },
    on: {
      change: async (event) => {
        try {
          const now = await api.setStartAtLogin(event.target.checked);
          status.textContent = now ? t("Blastdesk will start in the tray when you log in.") : t("Blastdesk will not start by itself.");
        } catch (error) {
          status.textContent = ApiError.from(error).message;
        }
      },
    },
  });
  return h(
    "section",
    { class: "card" },
    h("h2", { text: t("Start-up") }),
    h("label", { class: "check" }, box, t("Start Blastdesk when I log in, in the tray, so scheduled blasts run after a restart")),
    status,
  );
}

async function versionCard() {
  let version;
  try {
    version = await api.whatsappVersion();
  } catch (error) {
    return errorPanel(ApiError.from(error));
  }
  const input = h("input", { attrs: { id: "whatsapp-version", type: "text", value: version.named ?? "", placeholder: version.example } });
  const status = h("span", {
    class: "muted",
    attrs: { role: "status" },
    dataset: { testid: "version-status" },
    text: version.named
      ? t("Announcing {version}.", { version: version.named })
      : t("Announcing WhatsApp's current version (checked daily)."),
  });
  const form = h(
    "form",
    { class: "row" },
    input,
    h("button", { class: "button", attrs: { type: "submit" }, dataset: { testid: "save-version" } }, t("Save")),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await api.setWhatsappVersion(input.value);
      status.textContent = saved.named
        ? t("Announcing {version}. Accounts use it from their next connection.", { version: saved.named })
        : t("Announcing WhatsApp's current version (checked daily). Accounts use it from their next connection.");
    } catch (error) {
      status.textContent = ApiError.from(error).message;
    }
  });
  return h(
    "div",
    { class: "stack" },
    h("h3", { text: "WhatsApp" }),
    h("label", {
      class: "field-label",
      attrs: { for: "whatsapp-version" },
      text: t("WhatsApp Web version to announce (only if WhatsApp's site cannot be reached; empty: WhatsApp's current one)"),
    }),
    form,
  );
}

/**
 * Back up, restore, and the data folder. Without a database (it could not
 * be opened), restoring a backup in its place is what is left to do.
 */
function dataCard(opened) {
  const status = h("p", { class: "muted", attrs: { role: "status" }, dataset: { testid: "data-status" } });
  const run = async (action, describe) => {
    status.textContent = "";
    status.classList.remove("error-text");
    try {
      const result = await action();
      if (result) status.textContent = describe(result);
    } catch (error) {
      status.classList.add("error-text");
      status.textContent = ApiError.from(error).message;
    }
  };
  const button = (text, testid, onClick) =>
    h("button", { class: "button", attrs: { type: "button" }, dataset: { testid }, on: { click: onClick } }, text);
  return h(
    "section",
    { class: "card stack" },
    h("h2", { text: t("Your data") }),
    h("p", {
      class: "muted",
      text: t(LONG.yourData),
    }),
    h(
      "div",
      { class: "row" },
      opened ? button(t("Back up…"), "backup", () => run(api.backupDatabase, (path) => t("Backed up to {path}.", { path }))) : null,
      button(t("Restore a backup…"), "restore", async () => {
        if (await askRestore(null)) run(() => api.restoreDatabase(), restoredText);
      }),
      button(t("Open the data folder"), "open-data-folder", () => run(api.openDataFolder, () => "")),
    ),
    status,
  );
}

const restoredText = (path) => t("Restored from {path}. Blastdesk restarts now.", { path });

/** The app's question before a restore; `name`: the dropped file's, if one. */
function askRestore(name) {
  return ask({
    title: t("Restore a backup?"),
    body: name
      ? t("Replace everything in Blastdesk with the backup {name}? What was added since that backup is lost, then Blastdesk restarts.", {
          name,
        })
      : t("Replace everything in Blastdesk with a backup? What was added since that backup is lost."),
    confirm: t("Restore"),
    danger: true,
    kind: "restore",
  });
}

/** What a backup's file is called. */
const BACKUP_NAME = /\.(blastdesk|sqlite3|db)$/i;

/**
 * Files dropped on Settings: a backup is offered for restoring (the app's
 * dialog asks first); anything else is not imported here, and the window
 * says where it goes. Resolves to a message for the person, or null.
 */
export async function dropFiles(files) {
  const backup = files.length === 1 && BACKUP_NAME.test(files[0].name) ? files[0] : null;
  if (!backup) {
    return t(LONG.onlyBackups);
  }
  if (!(await askRestore(backup.name))) return null;
  const status = document.querySelector("[data-testid=data-status]");
  try {
    const path = await api.restoreDatabase(backup.id);
    if (status && path) status.textContent = restoredText(path);
    return null;
  } catch (error) {
    const message = ApiError.from(error).message;
    if (!status) return message;
    status.classList.add("error-text");
    status.textContent = message;
    return null;
  }
}

function row(label, value, testid) {
  return [h("dt", { text: label }), h("dd", { text: value, dataset: { testid } })];
}

export default {
  id: "settings",
  get title() {
    return t("Settings");
  },
  async render({ info, summary, prefs }) {
    return h(
      "div",
      {},
      screenHeader(t("Settings"), t("How Blastdesk works on this computer.")),
      summary
        ? h(
            "section",
            { class: "card stack" },
            h("h2", { text: t("Language") }),
            languagePicker(prefs),
            h(
              "p",
              {},
              h(
                "a",
                { attrs: { href: "#/welcome" }, dataset: { testid: "show-welcome" } },
                t("Show the introduction and the rehearsal again"),
              ),
            ),
          )
        : null,
      summary ? await countryCard() : null,
      summary ? await startupCard() : null,
      dataCard(Boolean(summary)),
      await updatesCard(info),
      h(
        "details",
        // Open when the database cannot be opened: then what it says matters.
        { class: "card advanced", attrs: { open: summary ? undefined : "" }, dataset: { testid: "advanced" } },
        h(
          "summary",
          {},
          h("span", { class: "advanced-title", text: t("Advanced") }),
          h("span", { class: "muted", text: t("Version, folders, what is stored, the WhatsApp versions") }),
        ),
        h(
          "div",
          { class: "advanced-body" },
          h("h3", { text: t("This installation") }),
          h(
            "dl",
            { class: "facts" },
            row(t("Version"), info?.version ?? "?", "version"),
            row(t("WhatsApp library (whatsapp-rust)"), info?.whatsappRust ?? "?", "about-whatsapp-rust"),
            row(t("WhatsApp Web version"), whatsappWeb(info?.whatsappWeb), "about-whatsapp-web"),
            row(t("Data folder"), info?.dataDir ?? "?", "data-dir"),
            row(t("Logs folder"), info?.logsDir ?? "?", "logs-dir"),
            row(t("Database"), summary ? t("Version {n}", { n: summary.schemaVersion }) : t("Not open"), "schema-version"),
          ),
          summary
            ? [
                h("h3", { text: t("What is stored") }),
                h(
                  "dl",
                  { class: "facts" },
                  row(t("Accounts"), count(summary.accounts), "count-accounts"),
                  row(t("Saved audiences"), count(summary.audiences), "count-audiences"),
                  row(t("Contacts in audiences"), count(summary.contacts), "count-contacts"),
                  row(t("Blasts"), count(summary.blasts.total), "count-blasts"),
                  row(t("Schedules"), count(summary.schedules), "count-schedules"),
                  row(t("Do-not-contact numbers"), count(summary.doNotContact), "count-dnc"),
                ),
              ]
            : null,
          summary ? await versionCard() : null,
        ),
      ),
    );
  },
};
