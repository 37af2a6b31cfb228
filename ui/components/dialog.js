// The app's own questions, instead of the web view's `confirm()`: a modal
// <dialog> that names what will happen, with the safe answer focused first.
//
// Test ids: `dialog` (data-kind), `dialog-text`, `dialog-confirm`, `dialog-cancel`.

import { t } from "../i18n.js";
import { h } from "../view.js";

/**
 * Asks a yes/no question; resolves to true only when the person confirms.
 * `danger`: the confirming button is drawn as destructive. `kind`: a name for
 * tests and styles (e.g. "remove-account").
 */
export function ask({ title, body, confirm, cancel = t("Cancel"), danger = false, kind = "question" }) {
  return new Promise((resolve) => {
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const cancelButton = h(
      "button",
      { class: "button", attrs: { type: "button" }, dataset: { testid: "dialog-cancel" }, on: { click: () => finish(false) } },
      cancel,
    );
    const dialog = h(
      "dialog",
      { class: "card stack app-dialog", attrs: { "aria-labelledby": "app-dialog-title" }, dataset: { testid: "dialog", kind } },
      h("h2", { attrs: { id: "app-dialog-title" }, text: title }),
      body ? h("p", { dataset: { testid: "dialog-text" }, text: body }) : null,
      h(
        "div",
        { class: "row dialog-actions" },
        cancelButton,
        h(
          "button",
          {
            class: danger ? "button danger" : "button primary",
            attrs: { type: "button" },
            dataset: { testid: "dialog-confirm" },
            on: { click: () => finish(true) },
          },
          confirm,
        ),
      ),
    );
    // Escape closes the dialog: that is a "no".
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelButton.focus();
  });
}
