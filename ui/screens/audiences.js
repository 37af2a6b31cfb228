// Audiences: import customer lists (dropped or chosen files, plus saved
// audiences), preview exactly who will be reached, and save the result.

import { api, ApiError } from "../api.js";
import { N_, t } from "../i18n.js";
import { count, emptyState, errorPanel, h, plural, present, screenHeader } from "../view.js";
import { formatTime } from "../format.js";
import { rowText } from "../reasons.js";
import { ask } from "../components/dialog.js";
import { audienceChoice, fileChips } from "../components/recipient-chooser.js";

const TABS = [
  { id: "recipients", label: N_("Recipients") },
  { id: "invalid", label: N_("Invalid rows") },
  { id: "overridden", label: N_("Duplicates overridden") },
  { id: "excluded", label: N_("Excluded") },
];

// The import in progress survives moving between screens.
const session = {
  files: [], // [{id, name, sheet, mapping}]
  audiences: new Set(),
  result: null,
  error: null,
  busy: false,
  progress: "",
  tab: "recipients",
  saveName: "",
  saveMessage: null, // {kind: "ok"|"exists"|"error", text}
};
let mounted = null; // {root, saved} while the screen is shown

function sourceText(source) {
  if (!source) return "";
  if (source.audience !== undefined) return t("Audience “{name}”", { name: source.audience });
  const sheet = source.sheet ? ` › ${source.sheet}` : "";
  return t("{file}, row {row}", { file: `${source.file}${sheet}`, row: source.row });
}

function describeProgress(step) {
  switch (step.stage) {
    case "loadingAudience":
      return t("Loading audience “{name}”…", { name: step.audience });
    case "readingFile":
      return t("Reading {file} ({n} of {total})…", { file: step.file, n: step.index + 1, total: step.total });
    case "merging":
      return t("Merging and checking duplicates…");
    default:
      return t("Working…");
  }
}

/** Adds files the person chose or dropped, then previews. */
export async function addFiles(granted) {
  for (const file of granted) {
    if (!session.files.some((f) => f.id === file.id)) session.files.push({ ...file });
  }
  session.saveMessage = null;
  await runPreview();
}

async function runPreview() {
  if (session.files.length === 0 && session.audiences.size === 0) {
    session.result = null;
    session.error = null;
    update();
    return;
  }
  session.busy = true;
  session.error = null;
  session.progress = t("Starting…");
  update();
  try {
    session.result = await api.importPreview(
      session.files.map((f) => ({ id: f.id, sheet: f.sheet ?? null, mapping: f.mapping ?? null })),
      [...session.audiences],
    );
  } catch (error) {
    session.result = null;
    session.error = ApiError.from(error);
  } finally {
    session.busy = false;
    update();
  }
}

api.on("import-progress", (step) => {
  session.progress = describeProgress(step);
  mounted?.root.querySelector("[data-testid=import-progress]")?.replaceChildren(session.progress);
});

function dropZone() {
  return h(
    "div",
    { class: "drop-zone", dataset: { testid: "drop-zone" } },
    h("p", { class: "drop-title", text: t("Drop Excel or CSV files here") }),
    h("p", { class: "muted", text: t(".xlsx, .xlsm, .xlsb, .xls, .ods or .csv — several at once if you like") }),
    h(
      "button",
      {
        class: "button primary",
        attrs: { type: "button" },
        dataset: { testid: "pick-files" },
        on: {
          click: async () => {
            try {
              const granted = await api.pickFiles();
              if (granted.length) await addFiles(granted);
            } catch (error) {
              session.error = ApiError.from(error);
              update();
            }
          },
        },
      },
      t("Choose files…"),
    ),
  );
}

function chosenFiles() {
  return fileChips({
    files: session.files,
    numbered: true,
    onRemove: (file) => {
      session.files = session.files.filter((f) => f.id !== file.id);
      runPreview();
    },
  });
}

function audiencePicker(saved) {
  if (!saved?.length) return null;
  return audienceChoice({
    saved,
    chosen: session.audiences,
    legend: t("Include saved audiences (files take precedence over them)"),
    onToggle: (name, checked) => {
      if (checked) session.audiences.add(name);
      else session.audiences.delete(name);
      runPreview();
    },
  });
}

function mappingQuestion(result) {
  let chosen = result.columns.find((c) => c.samples.length)?.letter ?? result.columns[0]?.letter;
  const where = result.sheet ? `${result.file} › ${result.sheet}` : result.file;
  return h(
    "section",
    { class: "card mapping", dataset: { testid: "mapping" } },
    h("h2", { text: t("Which column holds the phone numbers?") }),
    h("p", { class: "muted", text: t("Blastdesk could not tell in {file}. Choose the column:", { file: where }) }),
    h(
      "div",
      { class: "columns", attrs: { role: "radiogroup" } },
      result.columns.map((column) =>
        h(
          "label",
          { class: "column-choice" },
          h("input", {
            attrs: { type: "radio", name: "phone-column", value: column.letter, checked: column.letter === chosen ? "" : undefined },
            on: { change: () => (chosen = column.letter) },
          }),
          h("span", { class: "column-letter", text: column.letter }),
          h("span", { class: "column-header", text: column.header || t("(no header)") }),
          h("span", { class: "muted column-samples", text: column.samples.join(" · ") }),
        ),
      ),
    ),
    h(
      "button",
      {
        class: "button primary",
        attrs: { type: "button" },
        dataset: { testid: "use-column" },
        on: {
          click: () => {
            const file = session.files.find((f) => f.id === result.fileId);
            if (file) file.mapping = { phoneColumn: chosen, headerRow: null };
            runPreview();
          },
        },
      },
      t("Use this column"),
    ),
  );
}

function table(headers, rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((text) => h("th", { attrs: { scope: "col" }, text })),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((cells) =>
          h(
            "tr",
            {},
            cells.map((cell) => (cell instanceof Node ? h("td", {}, cell) : h("td", { text: cell }))),
          ),
        ),
      ),
    ),
  );
}

function fieldValues(fields, names, changed) {
  return h(
    "dl",
    { class: "mini-fields" },
    names.map((name) => [
      h("dt", { text: name }),
      h("dd", { class: changed.includes(name) ? "changed" : undefined, text: fields?.[name] ?? "" }),
    ]),
  );
}

function tabPanel(view) {
  const names = view.fieldNames;
  switch (session.tab) {
    case "recipients":
      return table(
        [t("Phone"), ...names, t("From")],
        view.recipients.map((r) => [r.phone, ...names.map((n) => r.fields[n] ?? ""), sourceText(r.source)]),
      );
    case "invalid":
      return table(
        [t("Where"), t("Value"), t("Why it cannot be used")],
        view.invalid.map((row) => [sourceText(row.source), row.value, rowText(row.code, row.reason)]),
      );
    case "overridden":
      return table(
        [t("Phone"), t("Kept"), t("Dropped"), t("Differs in")],
        view.overridden.map((o) => {
          const shown = [...new Set([...Object.keys(o.keptFields), ...Object.keys(o.droppedFields)])];
          return [
            o.phone,
            h("div", {}, h("div", { class: "source", text: sourceText(o.kept) }), fieldValues(o.keptFields, shown, o.changed)),
            h("div", {}, h("div", { class: "source", text: sourceText(o.dropped) }), fieldValues(o.droppedFields, shown, o.changed)),
            o.changed.length ? o.changed.join(", ") : t("nothing (same values)"),
          ];
        }),
      );
    case "excluded":
      return table(
        [t("Phone"), t("From"), t("Why")],
        view.excluded.map((e) => [e.phone, sourceText(e.source), e.reason]),
      );
    default:
      return null;
  }
}

function previewView(view) {
  const shown = view[session.tab]?.length ?? 0;
  const total = view.counts[session.tab] ?? 0;
  return h(
    "section",
    { class: "card preview", dataset: { testid: "preview" } },
    h(
      "div",
      { class: "tabs", attrs: { role: "tablist", "aria-label": t("Preview") } },
      TABS.map((tab) =>
        h(
          "button",
          {
            class: "tab",
            attrs: { type: "button", role: "tab", "aria-selected": String(session.tab === tab.id) },
            dataset: { tab: tab.id },
            on: {
              click: () => {
                session.tab = tab.id;
                update();
              },
            },
          },
          h("span", { class: "tab-count", dataset: { testid: `count-${tab.id}` }, text: count(view.counts[tab.id]) }),
          h("span", { text: t(tab.label) }),
        ),
      ),
    ),
    view.files.map((file, index) => fileNote(file, session.files[index])),
    total === 0
      ? h("p", { class: "muted empty-tab", text: t("Nothing here.") })
      : h("div", { attrs: { role: "tabpanel" } }, tabPanel(view)),
    shown < total
      ? h("p", { class: "muted", text: t("Showing the first {shown} of {total}.", { shown: count(shown), total: count(total) }) })
      : null,
    saveForm(view),
  );
}

/** Which sheet and columns a file was read with; another sheet can be chosen. */
function fileNote(file, chosen) {
  const text =
    t("{file}: phone numbers in column {column}", {
      file: `${file.file}${file.sheet ? ` › ${file.sheet}` : ""}`,
      column: file.phoneColumn.letter,
    }) +
    (file.phoneColumn.header ? ` (“${file.phoneColumn.header}”)` : "") +
    (file.headerRow ? t(", header on row {row}", { row: file.headerRow }) : t(", no header row")) +
    (file.foundBy === "content" ? t(" — recognised by its values") : "");
  const sheetPicker =
    chosen && file.sheets.length > 1
      ? h(
          "label",
          { class: "sheet-picker" },
          t("Sheet"),
          " ",
          h(
            "select",
            {
              dataset: { testid: "sheet" },
              on: {
                change: (event) => {
                  chosen.sheet = event.target.value;
                  chosen.mapping = null;
                  runPreview();
                },
              },
            },
            file.sheets.map((sheet) =>
              h("option", { attrs: { value: sheet, selected: sheet === file.sheet ? "" : undefined }, text: sheet }),
            ),
          ),
        )
      : null;
  return h("p", { class: "muted file-note" }, text, sheetPicker);
}

function saveForm(view) {
  if (view.counts.recipients === 0) return null;
  const save = async (replace) => {
    try {
      const info = await api.saveAudience(session.saveName, replace);
      session.saveMessage = {
        kind: "ok",
        text: t("Saved “{name}” with {contacts}.", { name: info.name, contacts: plural(info.contacts, "contact") }),
      };
    } catch (error) {
      const e = ApiError.from(error);
      session.saveMessage = { kind: e.code === "audience_exists" ? "exists" : "error", text: e.message };
    }
    update();
    if (session.saveMessage.kind === "ok") refreshSaved();
  };
  const input = h("input", {
    attrs: { type: "text", id: "save-name", placeholder: t("e.g. Regular customers"), value: session.saveName, maxlength: "100" },
    dataset: { testid: "save-name" },
    on: { input: (event) => (session.saveName = event.target.value) },
  });
  return h(
    "form",
    {
      class: "save-form",
      on: {
        submit: (event) => {
          event.preventDefault();
          save(false);
        },
      },
    },
    h("label", { attrs: { for: "save-name" }, text: t("Save these recipients as an audience") }),
    h(
      "div",
      { class: "row" },
      input,
      h("button", { class: "button primary", attrs: { type: "submit" }, dataset: { testid: "save-audience" } }, t("Save audience")),
    ),
    session.saveMessage
      ? h(
          "p",
          { class: `save-message ${session.saveMessage.kind}`, attrs: { role: "status" }, dataset: { testid: "save-message" } },
          session.saveMessage.text,
          session.saveMessage.kind === "exists"
            ? h("button", { class: "button link", attrs: { type: "button" }, on: { click: () => save(true) } }, t("Replace it"))
            : null,
        )
      : null,
  );
}

function importCard(saved) {
  return h(
    "section",
    { class: "card import", dataset: { testid: "import" } },
    h("h2", { text: t("Import customers") }),
    dropZone(),
    chosenFiles(),
    audiencePicker(saved),
  );
}

function resultView() {
  if (session.busy) {
    return h("p", { class: "progress", attrs: { role: "status" }, dataset: { testid: "import-progress" } }, session.progress);
  }
  if (session.error) return errorPanel(session.error);
  if (session.result?.status === "needsMapping") return mappingQuestion(session.result);
  if (session.result?.status === "ready") return previewView(session.result);
  return null;
}

function savedList(audiences) {
  if (!audiences?.length) {
    return emptyState({
      title: t("No saved audiences yet"),
      body: t(
        "Import a customer list above to see exactly who can be reached, which rows have problems, and which duplicates were merged. Save it as an audience to reuse it.",
      ),
      points: [
        t("Phone numbers in any format are tidied into one form"),
        t("Rows that cannot be used are listed with the reason"),
        t("Every column becomes a placeholder for your message, like {name}"),
      ],
    });
  }
  return h(
    "section",
    { class: "card" },
    h("h2", { text: t("Saved audiences") }),
    h(
      "ul",
      { class: "list", dataset: { testid: "audience-list" } },
      audiences.map((audience) =>
        h(
          "li",
          { class: "list-row audience-row" },
          h("span", { class: "list-title", text: audience.name }),
          h("span", { class: "muted", text: plural(audience.contacts, "contact") }),
          h("span", { class: "muted", text: t("Updated {time}", { time: formatTime(audience.updatedAt) }) }),
          h(
            "button",
            {
              class: "button small",
              attrs: { type: "button", "aria-label": t("Delete {name}", { name: audience.name }) },
              dataset: { testid: "delete-audience" },
              on: {
                click: async () => {
                  const sure = await ask({
                    title: t("Delete {name}", { name: audience.name }),
                    body: t(
                      "Delete the audience “{name}”? Blasts made from it keep their recipients; schedules that send to it will skip their runs.",
                      { name: audience.name },
                    ),
                    confirm: t("Delete"),
                    danger: true,
                    kind: "delete-audience",
                  });
                  if (!sure) return;
                  try {
                    await api.deleteAudience(audience.name);
                    session.audiences.delete(audience.name);
                  } catch (error) {
                    session.error = ApiError.from(error);
                  }
                  await refreshSaved();
                },
              },
            },
            t("Delete"),
          ),
        ),
      ),
    ),
  );
}

async function refreshSaved() {
  if (!mounted) return;
  try {
    mounted.saved = await api.listAudiences();
  } catch (error) {
    mounted.saved = null;
    session.error = ApiError.from(error);
  }
  update();
}

function update() {
  if (!mounted) return;
  mounted.root.replaceChildren(...present(importCard(mounted.saved), resultView(), savedList(mounted.saved)));
}

export default {
  id: "audiences",
  get title() {
    return t("Audiences");
  },
  async render({ summary }) {
    const root = h("div", { class: "stack" });
    mounted = { root, saved: [] };
    if ((summary?.audiences ?? 0) > 0) {
      try {
        mounted.saved = await api.listAudiences();
      } catch (error) {
        session.error = ApiError.from(error);
      }
    }
    update();
    return h("div", {}, screenHeader(t("Audiences"), t("Customer lists: import them, check them, save them to send to again.")), root);
  },
};
