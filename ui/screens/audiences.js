import { emptyState, h, plural, screenHeader } from "../view.js";

export default {
  id: "audiences",
  title: "Audiences",
  render({ summary }) {
    const saved = summary?.audiences ?? 0;
    return h(
      "div",
      {},
      screenHeader("Audiences", "Saved customer lists you can send to again and again."),
      saved === 0
        ? emptyState({
            title: "No saved audiences yet",
            body: "Drop an Excel or CSV file of customers here to see exactly who can be reached, which rows have problems, and which duplicates were merged. Save it as an audience to reuse it.",
            points: [
              "Phone numbers in any format are tidied into one form",
              "Rows that cannot be used are listed with the reason",
              "Every column becomes a placeholder for your message, like {name}",
            ],
          })
        : h(
            "p",
            { class: "lead" },
            `${plural(saved, "saved audience")} with ${plural(summary.contacts, "contact")}.`,
          ),
    );
  },
};
