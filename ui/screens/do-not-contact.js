// Do not contact: numbers that never receive a blast. Added by hand, from a
// file, or by the customer replying an opt-out word (STOP, BERHENTI, or the
// words chosen here).

import { api, ApiError } from "../api.js";
import { ask } from "../components/dialog.js";
import { N_, t } from "../i18n.js";
import { count, emptyState, errorPanel, h, noticeLine, present, screenHeader } from "../view.js";
import { formatTime } from "./pacing-view.js";

const REASONS = {
  manual: N_("Added by hand"),
  import: N_("From a file"),
  opt_out_reply: N_("Replied to opt out"),
};

let entries = [];
let words = "";
let notice = null; // {kind, text}
let typed = ""; // numbers typed and not added yet: kept when they are refused
let root = null;
let query = ""; // the search typed over the list

async function reload() {
  try {
    [entries, words] = await Promise.all([api.listDoNotContact(), api.optOutWords()]);
  } catch (error) {
    notice = { kind: "error", text: ApiError.from(error).message };
  }
  update();
}

async function act(action, describe) {
  notice = null;
  try {
    const result = await action();
    if (result) notice = { kind: "ok", text: describe(result) };
  } catch (error) {
    notice = { kind: "error", text: ApiError.from(error).message };
  }
  await reload();
}

const addedText = (r) =>
  t("{added} added, {already} already on the list, {invalid} unusable.", {
    added: count(r.added),
    already: count(r.already),
    invalid: count(r.invalid),
  });

/** Adds dropped or picked files' numbers to the list (opt-outs), one file at a time. */
export async function addFiles(files) {
  for (const file of files) await act(() => api.addDoNotContactFile(file.id), addedText);
}

function addForm() {
  const input = h("textarea", {
    attrs: { id: "dnc-numbers", rows: "3", placeholder: "0812 3456 7890, +60 12 345 6789" },
    dataset: { testid: "dnc-numbers" },
    on: { input: (e) => (typed = e.target.value) },
  });
  input.value = typed;
  const form = h(
    "form",
    { class: "stack" },
    h("label", { class: "field-label", attrs: { for: "dnc-numbers" }, text: t("Numbers (one per line, or separated by commas)") }),
    input,
    h(
      "div",
      { class: "row" },
      h("button", { class: "button primary", attrs: { type: "submit" }, dataset: { testid: "dnc-add" } }, t("Add to the list")),
      h(
        "button",
        {
          class: "button",
          attrs: { type: "button" },
          dataset: { testid: "dnc-add-file" },
          on: {
            click: async () => {
              await addFiles(await api.pickFiles().catch(() => []));
            },
          },
        },
        t("Add from a file…"),
      ),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      const added = await api.addDoNotContact(input.value);
      typed = "";
      return added;
    }, addedText);
  });
  return h(
    "section",
    { class: "card" },
    h("h2", { text: t("Add numbers") }),
    h("p", { class: "muted", text: t("Or drop a file with a phone column on this window.") }),
    form,
  );
}

function wordsForm() {
  const input = h("input", { attrs: { id: "opt-out-words", type: "text", value: words }, dataset: { testid: "opt-out-words" } });
  const form = h(
    "form",
    { class: "row" },
    input,
    h("button", { class: "button", attrs: { type: "submit" }, dataset: { testid: "save-opt-out-words" } }, t("Save")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(
      () => api.setOptOutWords(input.value),
      (saved) => t("Opt-out words: {words}.", { words: saved }),
    );
  });
  return h(
    "section",
    { class: "card stack" },
    h("h2", { text: t("Opt-out replies") }),
    h("label", {
      class: "field-label",
      attrs: { for: "opt-out-words" },
      text: t("A customer who replies with one of these words (the whole message, any capitals) is added to the list automatically"),
    }),
    form,
  );
}

/** Whether an entry fits what was typed: digits against the number, words against why. */
function matches(entry, typedQuery) {
  const text = typedQuery.trim().toLowerCase();
  if (!text) return true;
  const digits = text.replace(/\D/g, "").replace(/^0+/, "");
  if (digits && /^[\d\s+()\-.]+$/.test(text)) return entry.phone.replace(/\D/g, "").includes(digits);
  const words = [entry.phone, entry.note ?? "", t(REASONS[entry.reason] ?? entry.reason)].join(" ").toLowerCase();
  return words.includes(text);
}

function removeButton(entry) {
  return h(
    "button",
    {
      class: "button small",
      attrs: { type: "button", "aria-label": t("Take {phone} off the list", { phone: entry.phone }) },
      dataset: { testid: "dnc-remove" },
      on: {
        click: async () => {
          const sure = await ask({
            title: t("Take {phone} off the list?", { phone: entry.phone }),
            body: t("They may receive blasts again."),
            confirm: t("Take off the list"),
            danger: true,
            kind: "dnc-remove",
          });
          if (sure)
            act(
              () => api.removeDoNotContact(entry.phone),
              () => t("{phone} is off the list.", { phone: entry.phone }),
            );
        },
      },
    },
    t("Remove"),
  );
}

function list() {
  if (entries.length === 0) {
    return emptyState({
      title: t("No one on the list"),
      body: t("Numbers here never receive a blast, even when they are in a list you send to."),
    });
  }
  const rows = entries.map((entry) =>
    h(
      "tr",
      { dataset: { phone: entry.phone, reason: entry.reason } },
      h("td", { text: entry.phone }),
      h("td", { text: [t(REASONS[entry.reason] ?? entry.reason), entry.note].filter(Boolean).join(" · ") }),
      h("td", { text: formatTime(entry.addedAt) }),
      h("td", {}, removeButton(entry)),
    ),
  );
  const none = h("p", { class: "muted", dataset: { testid: "dnc-no-match" } });
  const shown = h("span", { class: "muted", dataset: { testid: "dnc-shown" } });
  const filter = () => {
    let visible = 0;
    entries.forEach((entry, i) => {
      const fits = matches(entry, query);
      rows[i].hidden = !fits;
      if (fits) visible += 1;
    });
    none.hidden = visible > 0;
    none.textContent = visible ? "" : t("No number or note on the list matches “{query}”.", { query: query.trim() });
    shown.textContent = query.trim() ? t("{shown} of {n} shown", { shown: count(visible), n: count(entries.length) }) : "";
  };
  const search = h("input", {
    attrs: {
      type: "search",
      id: "dnc-search",
      placeholder: t("Search by number or note"),
      "aria-label": t("Search by number or note"),
      autocomplete: "off",
    },
    dataset: { testid: "dnc-search" },
    on: {
      input: (e) => {
        query = e.target.value;
        filter();
      },
    },
  });
  search.value = query;
  const section = h(
    "section",
    { class: "card" },
    h("h2", { text: t("{n} numbers never messaged", { n: count(entries.length) }) }),
    h("div", { class: "row dnc-search" }, search, shown),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "preview", dataset: { testid: "dnc-list" } },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            [t("Phone"), t("Why"), t("Added"), t("Action")].map((text) => h("th", { text })),
          ),
        ),
        h("tbody", {}, rows),
      ),
    ),
    none,
  );
  filter();
  return section;
}

function render() {
  return h(
    "div",
    { class: "stack" },
    screenHeader(t("Do not contact"), t("Numbers that never receive a blast.")),
    ...present(noticeLine(notice), list(), addForm(), wordsForm()),
  );
}

function update() {
  if (root?.isConnected) root.replaceChildren(render());
}

// Opt-outs seen, so that a list read while one arrived is read again.
let optOuts = 0;

// An opt-out reply arrives while the screen is open: show it.
api.on("account", (event) => {
  if (event?.kind !== "optOut") return;
  optOuts += 1;
  notice = { kind: "ok", text: t("{phone} replied “{word}” and was added to the list.", { phone: event.phone, word: event.word }) };
  if (root?.isConnected) reload();
});

export default {
  id: "do-not-contact",
  get title() {
    return t("Do not contact");
  },
  async render() {
    const seen = optOuts;
    try {
      [entries, words] = await Promise.all([api.listDoNotContact(), api.optOutWords()]);
    } catch (error) {
      return errorPanel(ApiError.from(error));
    }
    root = h("div", {});
    root.replaceChildren(render());
    if (optOuts !== seen) setTimeout(reload, 0);
    return root;
  },
};
