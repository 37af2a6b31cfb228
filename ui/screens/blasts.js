import { emptyState, h, plural, screenHeader } from "../view.js";

export default {
  id: "blasts",
  title: "Blasts",
  render({ summary }) {
    const total = summary?.blasts?.total ?? 0;
    return h(
      "div",
      {},
      screenHeader("Blasts", "Live progress and reports of your sends."),
      total === 0
        ? emptyState({
            title: "No blasts yet",
            body: "When you send a blast, its progress appears here live: sent, failed, skipped and waiting, with the expected finish time.",
            points: [
              "Pause, resume or cancel at any time",
              "A per-customer report you can export to Excel",
              "No one ever receives the same message twice, even after a crash",
            ],
          })
        : h("p", { class: "lead", text: `${plural(total, "blast")}.` }),
    );
  },
};
