// The first run: what Blastdesk does, how it keeps the number safe, and a
// rehearsal to a sample list so the whole flow can be seen without sending
// anything. Shown until finished or skipped; reachable again from the menu.

import { api, ApiError } from "../api.js";
import { currentLanguage, t } from "../i18n.js";
import { errorPanel, h, present } from "../view.js";
import { prepareRehearsal } from "./new-blast.js";
import { startLinking } from "./accounts.js";

let problem = null;

async function rehearse() {
  problem = null;
  try {
    const rehearsal = await api.startRehearsal(currentLanguage());
    await api.finishWelcome();
    prepareRehearsal(rehearsal, t("Rehearsal"));
    location.hash = "#/new-blast";
  } catch (error) {
    problem = ApiError.from(error);
    window.dispatchEvent(new Event("blastdesk:redraw"));
  }
}

/** Linking, as on the Accounts screen: the QR code shows there at once. */
async function link() {
  try {
    await api.finishWelcome();
  } catch (error) {
    problem = ApiError.from(error);
  }
  await startLinking();
  location.hash = "#/accounts";
}

async function skip(to) {
  try {
    await api.finishWelcome();
  } catch (error) {
    problem = ApiError.from(error);
  }
  location.hash = to;
}

/** The language choice: the system's, or one of the two. */
export function languagePicker(prefs, id = "language") {
  const select = h(
    "select",
    {
      attrs: { id },
      dataset: { testid: "language" },
      on: {
        change: async (event) => {
          const value = event.target.value || null;
          try {
            await api.setLanguage(value);
          } catch (error) {
            problem = ApiError.from(error);
          }
          window.dispatchEvent(new Event("blastdesk:redraw"));
        },
      },
    },
    [
      ["", t("As on this computer")],
      ["en", "English"],
      ["id", "Bahasa Indonesia"],
    ].map(([value, label]) =>
      h("option", { attrs: { value, selected: (prefs?.language ?? "") === value ? "selected" : undefined }, text: label }),
    ),
  );
  return h("div", { class: "row" }, h("label", { attrs: { for: id }, text: t("Language") }), select);
}

function step(number, title, body, ...actions) {
  return h(
    "li",
    { class: "card welcome-step" },
    h("span", { class: "step-number", attrs: { "aria-hidden": "true" }, text: String(number) }),
    h(
      "div",
      { class: "stack" },
      h("h2", { text: title }),
      ...body.map((text) => h("p", { text })),
      actions.length ? h("div", { class: "row" }, actions) : null,
    ),
  );
}

export default {
  id: "welcome",
  get title() {
    return t("Welcome");
  },
  async render({ prefs }) {
    return h(
      "div",
      { class: "stack welcome", dataset: { language: currentLanguage() } },
      h(
        "header",
        { class: "screen-header" },
        h("h1", { attrs: { tabindex: "-1" }, text: t("Welcome to Blastdesk") }),
        h("p", {
          class: "subtitle",
          text: t("Send one personalised WhatsApp message to many customers, from your own number, at a safe pace."),
        }),
      ),
      languagePicker(prefs, "welcome-language"),
      ...present(problem ? errorPanel(problem) : null),
      h(
        "ol",
        { class: "welcome-steps" },
        step(
          1,
          t("Try it first, without sending anything"),
          [
            t(
              "A rehearsal sends to six made-up customers. You see the whole flow: the list, the message for each person, the pacing, live progress and the report. Nothing reaches WhatsApp.",
            ),
          ],
          h(
            "button",
            { class: "button primary", attrs: { type: "button" }, dataset: { testid: "start-rehearsal" }, on: { click: rehearse } },
            t("Start a rehearsal"),
          ),
        ),
        step(
          2,
          t("Link your WhatsApp number"),
          [
            t(
              "Scan a QR code with WhatsApp on your phone (Linked devices › Link a device), or use a pairing code. Your messages go from your own number.",
            ),
          ],
          h(
            "button",
            { class: "button", attrs: { type: "button" }, dataset: { testid: "link-whatsapp" }, on: { click: link } },
            t("Link WhatsApp"),
          ),
        ),
        step(3, t("Why Blastdesk sends slowly"), [
          t(
            "WhatsApp bans numbers that send too many messages too fast, or to people who did not expect them. Blastdesk waits a little between messages, rests after each batch, keeps to hourly and daily limits, and sends only in the hours you choose.",
          ),
          t("Send only to customers who know you. Anyone who replies STOP or BERHENTI is never messaged again."),
        ]),
      ),
      h(
        "p",
        {},
        h(
          "button",
          {
            class: "button link",
            attrs: { type: "button" },
            dataset: { testid: "skip-welcome" },
            on: { click: () => skip("#/new-blast") },
          },
          t("Skip the introduction"),
        ),
      ),
    );
  },
};
