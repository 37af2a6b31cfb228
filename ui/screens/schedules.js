import { emptyState, h, plural, screenHeader } from "../view.js";

export default {
  id: "schedules",
  title: "Schedules",
  render({ summary }) {
    const total = summary?.schedules ?? 0;
    return h(
      "div",
      {},
      screenHeader("Schedules", "Blasts that send themselves at the time you choose."),
      total === 0
        ? emptyState({
            title: "Nothing scheduled",
            body: "Schedule a blast for later, or to repeat daily, weekly or monthly, in your own time zone. Blastdesk keeps running in the tray to send it on time.",
            points: [
              "Times are in your time zone, correct across daylight saving changes",
              "A repeating blast can re-read its customer file before each run",
              "You are told when a run starts, finishes or is missed",
            ],
          })
        : h("p", { class: "lead", text: `${plural(total, "schedule")}.` }),
    );
  },
};
