// Step 1 of New blast: who receives it. Saved audiences and lists added
// here, the preview of who that is, and the phone column when a file's is
// unclear.

import { t } from "../../i18n.js";
import { api, ApiError } from "../../api.js";
import { h, plural } from "../../view.js";
import { rowText } from "../../reasons.js";
import { addFilesButton, audienceChoice, fileChips } from "../../components/recipient-chooser.js";
import { addFiles, draft, hooks, keep, loadRecipients, view } from "./state.js";

function inlineError(error, testid) {
  return error
    ? h("p", { class: "inline-error", attrs: { role: "alert" }, dataset: { testid, code: error.code }, text: error.message })
    : null;
}

/** When a file's phone column is unclear: ask for it here. */
function mappingQuestion() {
  const m = view.mapping;
  const select = h(
    "select",
    { attrs: { id: "blast-phone-column" }, dataset: { testid: "blast-phone-column" } },
    m.columns.map((c) =>
      h("option", {
        attrs: { value: c.letter },
        text: `${c.letter}: ${c.header || t("(no header)")}${c.samples.length ? ` (${c.samples.slice(0, 2).join(", ")})` : ""}`,
      }),
    ),
  );
  return h(
    "div",
    { class: "row", attrs: { role: "group" } },
    h("label", { attrs: { for: "blast-phone-column" }, text: t("Which column of {file} holds the phone numbers?", { file: m.file }) }),
    select,
    h(
      "button",
      {
        class: "button primary",
        attrs: { type: "button" },
        dataset: { testid: "blast-use-column" },
        on: {
          click: () => {
            const file = draft.files.find((f) => f.id === m.fileId);
            if (file) file.mapping = { phoneColumn: select.value, headerRow: null };
            keep();
            loadRecipients();
          },
        },
      },
      t("Use this column"),
    ),
  );
}

/** What the import found, in short, with the rows that cannot be used. */
function previewSummary(preview) {
  const c = preview.counts;
  const problems = preview.invalid.slice(0, 20).map((row) => `${row.value || "—"}: ${rowText(row.code, row.reason)}`);
  return h(
    "div",
    { class: "stack", dataset: { testid: "blast-preview" } },
    h("p", {
      class: "lead",
      dataset: { testid: "blast-recipients" },
      text: t("{recipients} ({excluded} on the do-not-contact list left out).", {
        recipients: plural(c.recipients, "recipient"),
        excluded: plural(c.excluded, "number"),
      }),
    }),
    c.invalid || c.overridden
      ? h("p", {
          class: "muted",
          dataset: { testid: "blast-preview-problems" },
          text: t("{invalid} cannot be used; {overridden} merged.", {
            invalid: plural(c.invalid, "row"),
            overridden: plural(c.overridden, "duplicate"),
          }),
        })
      : null,
    problems.length
      ? h(
          "details",
          {},
          h("summary", { text: t("Rows that cannot be used") }),
          h(
            "ul",
            {},
            problems.map((text) => h("li", { text })),
          ),
        )
      : null,
  );
}

export function recipientsStep(saved) {
  const pick = async () => {
    view.errors.recipients = null;
    try {
      const granted = await api.pickFiles();
      if (granted.length) await addFiles(granted);
    } catch (error) {
      view.errors.recipients = ApiError.from(error);
      hooks.update();
    }
  };
  return h(
    "section",
    { class: "card stack editor-step", dataset: { step: "recipients" } },
    h("h2", {}, h("span", { class: "step-number", text: "1" }), t("Recipients")),
    saved.length
      ? audienceChoice({
          saved,
          chosen: draft.audiences,
          legend: t("Send to"),
          testid: "blast-audiences",
          onToggle: (name, checked) => {
            if (checked) draft.audiences.add(name);
            else draft.audiences.delete(name);
            keep();
            loadRecipients();
          },
        })
      : h("p", { class: "muted", text: t("No saved audiences yet: add files here, or import and save a list on the Audiences screen.") }),
    h(
      "div",
      { class: "stack", dataset: { testid: "blast-files" } },
      view.dropped.length
        ? h("p", {
            class: "notice notice-error",
            attrs: { role: "status" },
            dataset: { testid: "dropped-files" },
            text: t("Blastdesk was restarted since this draft was written: choose {files} again.", { files: view.dropped.join(", ") }),
          })
        : null,
      fileChips({
        files: draft.files,
        onRemove: (file) => {
          draft.files = draft.files.filter((f) => f.id !== file.id);
          keep();
          loadRecipients();
        },
      }),
      h(
        "div",
        { class: "row" },
        addFilesButton({ label: t("Add Excel or CSV files…"), testid: "blast-add-files", onPick: pick }),
        h("span", { class: "muted", text: t("or drop them on this window") }),
      ),
      inlineError(view.errors.recipients, "recipients-error"),
    ),
    view.mapping ? mappingQuestion() : null,
    view.busy && !view.preview ? h("p", { class: "progress", attrs: { role: "status" }, text: t("Loading recipients…") }) : null,
    view.preview ? previewSummary(view.preview) : null,
  );
}

export { inlineError };
