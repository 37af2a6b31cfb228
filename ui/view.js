// Building DOM without HTML strings: every value, above all anything that came
// from a spreadsheet, is set as text and can never be interpreted as markup.

import { ApiError } from "./api.js";
import { N_, locale, t } from "./i18n.js";

/**
 * Creates an element. `props`: `class`, `text`, `dataset`, `attrs` and `on`
 * (event handlers); children are nodes or strings (inserted as text).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = String(props.text);
  for (const [key, value] of Object.entries(props.dataset ?? {})) el.dataset[key] = value;
  for (const [key, value] of Object.entries(props.attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) el.setAttribute(key, value);
  }
  for (const [event, handler] of Object.entries(props.on ?? {})) el.addEventListener(event, handler);
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** The given nodes without the absent ones (null, undefined, false). */
export function present(...nodes) {
  return nodes.filter((node) => node !== null && node !== undefined && node !== false);
}

/** A screen's heading block. */
export function screenHeader(title, subtitle) {
  return h(
    "header",
    { class: "screen-header" },
    h("h1", { text: title, attrs: { tabindex: "-1" } }),
    subtitle ? h("p", { class: "subtitle", text: subtitle }) : null,
  );
}

/**
 * A screen's notice `{ kind, text }` (an error is an alert, anything else a
 * status), or nothing when there is none.
 */
export function noticeLine(notice) {
  return notice
    ? h("p", {
        class: `notice notice-${notice.kind}`,
        attrs: { role: notice.kind === "error" ? "alert" : "status" },
        dataset: { testid: "notice" },
        text: notice.text,
      })
    : null;
}

/**
 * The state of a screen with nothing in it yet: what the screen is for and
 * what the person will do here.
 */
export function emptyState({ title, body, points = [] }) {
  return h(
    "section",
    { class: "empty-state", dataset: { testid: "empty-state" } },
    h("h2", { text: title }),
    h("p", { text: body }),
    points.length
      ? h(
          "ul",
          { class: "points" },
          points.map((p) => h("li", { text: p })),
        )
      : null,
  );
}

/** What a person can do about an error, by its stable code. */
const ADVICE = {
  not_a_database: N_(
    "Move that file out of the data folder (Blastdesk then starts with a new, empty database), or put a Blastdesk backup in its place. Then restart Blastdesk.",
  ),
  foreign_database: N_("Move that file out of the data folder, or put a Blastdesk backup in its place. Then restart Blastdesk."),
  database_too_new: N_("Install the newest Blastdesk. Your data is safe: this version does not change the file."),
  database_corrupt: N_("Restore a backup of the database into the data folder, then restart Blastdesk."),
  database_busy: N_("Close any other program using Blastdesk's database, then restart Blastdesk."),
  data_folder_in_use: N_(
    "A Blastdesk command is sending from this computer's data right now. Wait for it to finish (or stop it), then restart Blastdesk. Nothing was changed.",
  ),
};

/** Database errors a backup can mend from Settings. */
const RESTORABLE = new Set(["not_a_database", "foreign_database", "database_corrupt"]);

/** An error shown in place, with advice and its stable code for support. */
export function errorPanel(raw, title = t("Something needs your attention")) {
  // A command's rejection, or an error the backend reported as data (the database's).
  const error = ApiError.from(raw);
  return h(
    "section",
    { class: "error-panel", attrs: { role: "alert" }, dataset: { testid: "error", code: error.code } },
    h("h2", { text: title }),
    h("p", { text: error.message }),
    ADVICE[error.code] ? h("p", { class: "advice", text: t(ADVICE[error.code]) }) : null,
    RESTORABLE.has(error.code)
      ? h(
          "p",
          { class: "advice" },
          h(
            "a",
            { attrs: { href: "#/settings" }, dataset: { testid: "restore-hint" } },
            t("Or restore a backup in Settings: the file that cannot be opened is kept beside it."),
          ),
        )
      : null,
    h("p", { class: "muted" }, t("Error code:"), " ", h("code", { text: error.code })),
  );
}

/** Formats a count for the person's locale. */
export function count(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

/** "1 contact", "2 contacts": a count with its noun (English keys, translated). */
export function plural(n, noun, nouns = `${noun}s`) {
  return `${count(n)} ${t(n === 1 ? noun : nouns)}`;
}
