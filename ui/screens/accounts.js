import { emptyState, h, plural, screenHeader } from "../view.js";

export default {
  id: "accounts",
  title: "Accounts",
  render({ summary }) {
    const linked = summary?.accounts ?? 0;
    return h(
      "div",
      {},
      screenHeader("Accounts", "The WhatsApp numbers Blastdesk sends from."),
      linked === 0
        ? emptyState({
            title: "No WhatsApp account linked yet",
            body: "Link your own WhatsApp number by scanning a QR code with your phone, as you would for WhatsApp on a computer. Blastdesk then sends from that number.",
            points: [
              "Link one or several numbers, each with a name you choose",
              "Use a pairing code instead of a QR code if scanning is awkward",
              "See at a glance which numbers are connected, and which need you",
            ],
          })
        : h("p", { class: "lead", text: `${plural(linked, "linked account")}.` }),
    );
  },
};
