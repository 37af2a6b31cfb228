import { emptyState, h, screenHeader } from "../view.js";

export default {
  id: "new-blast",
  title: "New blast",
  render() {
    return h(
      "div",
      {},
      screenHeader("New blast", "Send one personalised message to many customers."),
      emptyState({
        title: "Start a new blast",
        body: "Choose the number to send from, pick your customers, write the message, and check a preview of what each person will receive before anything is sent.",
        points: [
          "Personalise with any column: “Hi {name}, your order is ready”",
          "Send now, or schedule it for a time in your own time zone",
          "Messages are spaced out safely so your number is not banned",
        ],
      }),
    );
  },
};
