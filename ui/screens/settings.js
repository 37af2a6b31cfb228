import { count, h, screenHeader } from "../view.js";

function row(label, value, testid) {
  return [h("dt", { text: label }), h("dd", { text: value, dataset: { testid } })];
}

export default {
  id: "settings",
  title: "Settings",
  render({ info, summary }) {
    return h(
      "div",
      {},
      screenHeader("Settings", "How Blastdesk works on this computer."),
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
