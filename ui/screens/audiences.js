import { api } from "../api.js";
import { emptyState, errorPanel, h, plural, screenHeader } from "../view.js";

function audienceList(audiences) {
  const updated = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  return h(
    "section",
    { class: "card" },
    h("h2", { text: "Saved audiences" }),
    h(
      "ul",
      { class: "list", dataset: { testid: "audience-list" } },
      audiences.map((audience) =>
        h(
          "li",
          { class: "list-row" },
          h("span", { class: "list-title", text: audience.name }),
          h("span", { class: "muted", text: plural(audience.contacts, "contact") }),
          h("span", { class: "muted", text: `Updated ${updated.format(new Date(audience.updatedAt))}` }),
        ),
      ),
    ),
  );
}

export default {
  id: "audiences",
  title: "Audiences",
  async render({ summary }) {
    const saved = summary?.audiences ?? 0;
    const header = screenHeader("Audiences", "Saved customer lists you can send to again and again.");
    if (saved === 0) {
      return h(
        "div",
        {},
        header,
        emptyState({
          title: "No saved audiences yet",
          body: "Drop an Excel or CSV file of customers here to see exactly who can be reached, which rows have problems, and which duplicates were merged. Save it as an audience to reuse it.",
          points: [
            "Phone numbers in any format are tidied into one form",
            "Rows that cannot be used are listed with the reason",
            "Every column becomes a placeholder for your message, like {name}",
          ],
        }),
      );
    }
    let list;
    try {
      list = audienceList(await api.listAudiences());
    } catch (error) {
      list = errorPanel(error);
    }
    return h(
      "div",
      {},
      header,
      h("p", { class: "lead" }, `${plural(saved, "saved audience")} with ${plural(summary.contacts, "contact")}.`),
      list,
    );
  },
};
