// Choosing recipients: saved audiences as checkboxes, chosen files as
// removable chips, and the button that adds files. Shared by Audiences and
// New blast; the screen keeps what is chosen and is told of each change.

import { t } from "../i18n.js";
import { h, plural } from "../view.js";

/**
 * The saved audiences, each a checkbox (its input carries the audience's
 * name as `value` and `data-audience`). `onToggle(name, checked)`.
 */
export function audienceChoice({ saved, chosen, onToggle, legend, testid }) {
  return h(
    "fieldset",
    { class: "audience-picker", dataset: testid ? { testid } : {} },
    h("legend", { text: legend }),
    h(
      "div",
      { class: "audience-options" },
      saved.map((audience) =>
        h(
          "label",
          { class: "check audience-option" },
          h("input", {
            attrs: { type: "checkbox", value: audience.name, checked: chosen.has(audience.name) ? "checked" : undefined },
            dataset: { audience: audience.name },
            on: { change: (event) => onToggle(audience.name, event.target.checked) },
          }),
          h("span", { class: "audience-option-name", dataset: { testid: "audience-name" }, text: audience.name }),
          h("span", { class: "muted", text: plural(audience.contacts, "contact") }),
        ),
      ),
    ),
  );
}

/** The chosen files as chips, each with its remove button; nothing when none. */
export function fileChips({ files, onRemove, numbered = false }) {
  if (!files.length) return null;
  return h(
    "ul",
    { class: "chips", attrs: { "aria-label": t("Chosen files") } },
    files.map((file, index) =>
      h(
        "li",
        { class: "chip" },
        h("span", { text: numbered ? `${index + 1}. ${file.name}` : file.name }),
        h(
          "button",
          {
            class: "chip-remove",
            attrs: { type: "button", "aria-label": t("Remove {file}", { file: file.name }) },
            on: { click: () => onRemove(file) },
          },
          "×",
        ),
      ),
    ),
  );
}

/** A button that opens the file dialog; `onPick()` does the picking. */
export function addFilesButton({ label, testid, primary = false, onPick }) {
  return h(
    "button",
    { class: primary ? "button primary" : "button", attrs: { type: "button" }, dataset: { testid }, on: { click: onPick } },
    label,
  );
}
