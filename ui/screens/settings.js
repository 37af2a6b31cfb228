import { api, ApiError } from "../api.js";
import { count, errorPanel, h, screenHeader } from "../view.js";

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
            status.textContent = `Saved: numbers without a country code are read as ${saved}.`;
          } catch (error) {
            status.textContent = ApiError.from(error).message;
          }
        },
      },
    },
    options.map(([code, name]) =>
      h("option", { attrs: { value: code, selected: code === current ? "" : undefined }, text: `${name} (${code})` }),
    ),
  );
  return h(
    "section",
    { class: "card" },
    h("h2", { text: "Phone numbers" }),
    h("label", { class: "field-label", attrs: { for: "default-country" }, text: "Numbers written without a country code (like 0812…) are from" }),
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
          status.textContent = now ? "Blastdesk will start in the tray when you log in." : "Blastdesk will not start by itself.";
        } catch (error) {
          status.textContent = ApiError.from(error).message;
        }
      },
    },
  });
  return h(
    "section",
    { class: "card" },
    h("h2", { text: "Start-up" }),
    h("label", { class: "check" }, box, "Start Blastdesk when I log in, in the tray, so scheduled blasts run after a restart"),
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
  const input = h("input", { attrs: { id: "whatsapp-version", type: "text", value: version.overridden ? version.current : "", placeholder: version.pinned } });
  const status = h("span", { class: "muted", attrs: { role: "status" }, dataset: { testid: "version-status" }, text: `Announcing ${version.current}${version.overridden ? "" : " (built in)"}.` });
  const form = h(
    "form",
    { class: "row" },
    input,
    h("button", { class: "button", attrs: { type: "submit" }, dataset: { testid: "save-version" } }, "Save"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await api.setWhatsappVersion(input.value);
      status.textContent = `Announcing ${saved.current}${saved.overridden ? "" : " (built in)"}. Accounts use it from their next connection.`;
    } catch (error) {
      status.textContent = ApiError.from(error).message;
    }
  });
  return h(
    "section",
    { class: "card" },
    h("h2", { text: "WhatsApp" }),
    h("label", { class: "field-label", attrs: { for: "whatsapp-version" }, text: "WhatsApp Web version to announce (only when an account says Blastdesk is outdated; empty: the built-in one)" }),
    form,
  );
}

function row(label, value, testid) {
  return [h("dt", { text: label }), h("dd", { text: value, dataset: { testid } })];
}

export default {
  id: "settings",
  title: "Settings",
  async render({ info, summary }) {
    return h(
      "div",
      {},
      screenHeader("Settings", "How Blastdesk works on this computer."),
      summary ? await countryCard() : null,
      summary ? await startupCard() : null,
      summary ? await versionCard() : null,
      h(
        "section",
        { class: "card" },
        h("h2", { text: "This installation" }),
        h(
          "dl",
          { class: "facts" },
          row("Version", info?.version ?? "unknown", "version"),
          row("Data folder", info?.dataDir ?? "unknown", "data-dir"),
          row("Logs folder", info?.logsDir ?? "unknown", "logs-dir"),
          row(
            "Database",
            summary ? `Version ${summary.schemaVersion}` : "Not open",
            "schema-version",
          ),
        ),
      ),
      summary
        ? h(
            "section",
            { class: "card" },
            h("h2", { text: "What is stored" }),
            h(
              "dl",
              { class: "facts" },
              row("Accounts", count(summary.accounts), "count-accounts"),
              row("Saved audiences", count(summary.audiences), "count-audiences"),
              row("Contacts in audiences", count(summary.contacts), "count-contacts"),
              row("Blasts", count(summary.blasts.total), "count-blasts"),
              row("Schedules", count(summary.schedules), "count-schedules"),
              row("Do-not-contact numbers", count(summary.doNotContact), "count-dnc"),
            ),
          )
        : null,
    );
  },
};
