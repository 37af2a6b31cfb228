// Step 2 of New blast: the message, written on one side and seen on the
// other as the customer's phone shows it. Columns and variants are put in
// by buttons and shown as chips under the text; the syntax underneath is the
// core's ({column}, {a|b}, see crates/core/src/template.rs).

import { t } from "../../i18n.js";
import { api, ApiError } from "../../api.js";
import { count, h } from "../../view.js";
import { KINDS, phonePreview, sizeText } from "../../components/phone-preview.js";
import { draft, hooks, keep, recipientCount, refreshPreview, view } from "./state.js";
import { inlineError } from "./recipients.js";

/** WhatsApp's limits: a text message, and a caption under an attachment. */
const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;

/**
 * The template's braces as tokens: {kind: "field", name} and
 * {kind: "variant", options}, each with its `start` and `end` in the text.
 * `{{` and `}}` are literal braces.
 */
export function templateTokens(text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("{{", i) || text.startsWith("}}", i)) {
      i += 2;
      continue;
    }
    if (text[i] !== "{") {
      i += 1;
      continue;
    }
    // Find the matching brace, splitting at top-level bars.
    let depth = 0;
    let j = i;
    const bars = [];
    for (; j < text.length; j += 1) {
      if (text[j] === "{") depth += 1;
      else if (text[j] === "}") {
        depth -= 1;
        if (depth === 0) break;
      } else if (text[j] === "|" && depth === 1) bars.push(j);
    }
    if (j >= text.length) break; // never closed: the core says so
    const inside = text.slice(i + 1, j);
    if (bars.length) {
      const cuts = [i, ...bars, j];
      tokens.push({ kind: "variant", start: i, end: j + 1, options: cuts.slice(0, -1).map((at, k) => text.slice(at + 1, cuts[k + 1])) });
    } else if (/[{}]/.test(inside)) {
      tokens.push({ kind: "variant", start: i, end: j + 1, options: [inside] });
    } else if (inside.trim()) {
      tokens.push({ kind: "field", start: i, end: j + 1, name: inside.trim() });
    }
    i = j + 1;
  }
  return tokens;
}

function area() {
  return document.querySelector("#template");
}

/** Puts `token` where the cursor is (replacing a selection) and announces the change. */
function insertAtCursor(token) {
  const el = area();
  if (!el) return;
  const start = el.selectionStart ?? el.value.length;
  const end = el.selectionEnd ?? el.value.length;
  el.value = el.value.slice(0, start) + token + el.value.slice(end);
  el.focus();
  el.selectionStart = el.selectionEnd = start + token.length;
  el.dispatchEvent(new Event("input"));
}

/** Wraps the selection in a WhatsApp marker (or puts an empty pair at the cursor). */
function wrapSelection(marker) {
  const el = area();
  if (!el) return;
  const start = el.selectionStart ?? el.value.length;
  const end = el.selectionEnd ?? el.value.length;
  const chosen = el.value.slice(start, end);
  el.value = el.value.slice(0, start) + marker + chosen + marker + el.value.slice(end);
  el.focus();
  el.selectionStart = start + marker.length;
  el.selectionEnd = start + marker.length + chosen.length;
  el.dispatchEvent(new Event("input"));
}

/** Selects a token's text in the editor, to change or delete it. */
function selectToken(token) {
  const el = area();
  if (!el) return;
  el.focus();
  el.setSelectionRange(token.start, token.end);
}

function charCount() {
  return t("{n} characters", { n: count(draft.template.length) });
}

/** The chips under the text: each column and each set of variants it holds. */
function tokenList() {
  const columns = view.preview?.fieldNames ?? [];
  const tokens = templateTokens(draft.template);
  if (!tokens.length) {
    return h("p", {
      class: "muted small token-hint",
      text: t("Put in a column or variants with the buttons above: they show here as chips."),
    });
  }
  return h(
    "ul",
    { class: "token-list", attrs: { "aria-label": t("Columns and variants in the message") } },
    tokens.map((token) => {
      const known = token.kind !== "field" || columns.some((c) => c.toLowerCase() === token.name.toLowerCase());
      const label =
        token.kind === "field"
          ? known
            ? token.name
            : t("{column} (no such column)", { column: token.name })
          : token.options.map((o) => o.trim() || t("(nothing)")).join(" / ");
      return h(
        "li",
        {},
        h(
          "button",
          {
            class: `token token-${token.kind}${known ? "" : " token-unknown"}`,
            attrs: {
              type: "button",
              title:
                token.kind === "field"
                  ? t("Each customer's {column}", { column: token.name })
                  : t("One of these, picked for each customer"),
            },
            dataset: { testid: "token", kind: token.kind },
            on: { click: () => selectToken(token) },
          },
          h("span", { class: "token-kind", text: token.kind === "field" ? t("Column") : t("Variants") }),
          h("span", { class: "token-text", text: label }),
        ),
      );
    }),
  );
}

/** Redraws what depends on the text while it is typed (not the editor itself). */
function onTemplateInput(event) {
  draft.template = event.target.value;
  keep();
  // An error about the message that was is gone with it.
  if (view.errors.send) {
    view.errors.send = null;
    document.querySelector("[data-testid=send-error]")?.remove();
  }
  document.querySelector("[data-testid=char-count]")?.replaceChildren(charCount());
  document.querySelector(".token-slot")?.replaceChildren(tokenList());
  for (const testid of ["send-now", "schedule-blast"]) {
    const button = document.querySelector(`[data-testid=${testid}]`);
    if (button) button.disabled = view.busy || !draft.template.trim();
  }
  clearTimeout(typing);
  typing = setTimeout(refreshPreview, 200);
}
let typing = null;

/** "Add variant": alternatives, one picked for each customer. */
function variantMaker() {
  const options = h("div", { class: "variant-options" });
  const addOption = (value = "") => {
    const n = options.children.length + 1;
    options.append(
      h("input", {
        attrs: { type: "text", value, "aria-label": t("Variant {n}", { n }), placeholder: n === 1 ? t("Hi") : n === 2 ? t("Hello") : "" },
        dataset: { testid: "variant-option" },
      }),
    );
  };
  const panel = h(
    "div",
    { class: "variant-maker stack", attrs: { hidden: "hidden" }, dataset: { testid: "variant-maker" } },
    h("p", { class: "muted small", text: t("Each customer gets one of these, picked at random: fewer identical messages.") }),
    options,
    h(
      "div",
      { class: "row" },
      h("button", { class: "button small", attrs: { type: "button" }, on: { click: () => addOption() } }, t("Another variant")),
      h(
        "button",
        {
          class: "button small primary",
          attrs: { type: "button" },
          dataset: { testid: "insert-variant" },
          on: {
            click: () => {
              const values = [...options.querySelectorAll("input")].map((i) => i.value.replace(/[{}|]/g, "")).filter((v) => v.trim());
              if (values.length < 2) {
                options.querySelector("input:not([value]), input")?.focus();
                return;
              }
              panel.hidden = true;
              insertAtCursor(`{${values.join("|")}}`);
            },
          },
        },
        t("Put in the message"),
      ),
      h(
        "button",
        {
          class: "button small link",
          attrs: { type: "button" },
          on: {
            click: () => {
              panel.hidden = true;
            },
          },
        },
        t("Cancel"),
      ),
    ),
  );
  const open = h(
    "button",
    {
      class: "chip-button",
      attrs: { type: "button" },
      dataset: { testid: "add-variant" },
      on: {
        click: () => {
          const el = area();
          const selected = el ? el.value.slice(el.selectionStart, el.selectionEnd) : "";
          options.replaceChildren();
          addOption(selected.replace(/[{}|]/g, ""));
          addOption();
          panel.hidden = false;
          options.querySelector("input")?.focus();
        },
      },
    },
    "+ ",
    t("Add variant"),
  );
  return { open, panel };
}

function toolbar() {
  const fields = view.preview?.fieldNames ?? [];
  const variant = variantMaker();
  const format = (marker, label, name, testid) =>
    h(
      "button",
      {
        class: "format-button",
        attrs: { type: "button", title: name, "aria-label": name },
        dataset: { testid },
        on: { click: () => wrapSelection(marker) },
      },
      label,
    );
  return [
    h(
      "div",
      { class: "editor-toolbar", attrs: { role: "group", "aria-label": t("Insert a column") } },
      fields.map((name) =>
        h(
          "button",
          {
            class: "chip-button",
            attrs: { type: "button", title: t("Insert {column}", { column: name }) },
            dataset: { placeholder: name },
            on: { click: () => insertAtCursor(`{${name}}`) },
          },
          "+ ",
          name,
        ),
      ),
      variant.open,
      h(
        "span",
        { class: "format-buttons" },
        format("*", h("strong", { text: "B" }), t("Bold"), "format-bold"),
        format("_", h("em", { text: "I" }), t("Italic"), "format-italic"),
        format("~", h("del", { text: "S" }), t("Strikethrough"), "format-strike"),
        format("```", h("code", { text: "</>" }), t("Monospace"), "format-mono"),
      ),
    ),
    variant.panel,
  ];
}

/** An optional photo, video or document sent with the message as its caption. */
function attachmentPicker() {
  const a = draft.attachment;
  const choose = async () => {
    view.errors.attachment = null;
    try {
      const chosen = await api.pickAttachment();
      if (chosen) {
        const { thumbnail, ...kept } = chosen;
        draft.attachment = kept;
        view.thumbnail = thumbnail ? { id: chosen.id, url: thumbnail } : null;
        view.dropped = view.dropped.filter((name) => name !== chosen.name);
      }
      keep();
    } catch (error) {
      view.errors.attachment = ApiError.from(error);
    }
    hooks.update();
  };
  const kind = a ? t(KINDS[a.kind] ?? a.kind) : "";
  return h(
    "div",
    { class: "stack" },
    h(
      "div",
      { class: "row", dataset: { testid: "attachment" } },
      a
        ? [
            h("span", {
              dataset: { testid: "attachment-name" },
              text:
                a.kind === "audio"
                  ? // WhatsApp gives audio no caption: the adapter sends the text first, on its own.
                    t(
                      "Attached: {name} ({kind}, {size}). Audio has no caption in WhatsApp: your message is sent first, as its own text, then the audio.",
                      { name: a.name, kind, size: sizeText(a.bytes) },
                    )
                  : t("Attached: {name} ({kind}, {size}); the message is its caption.", { name: a.name, kind, size: sizeText(a.bytes) }),
            }),
            h(
              "button",
              {
                class: "button small",
                attrs: { type: "button" },
                dataset: { testid: "remove-attachment" },
                on: {
                  click: () => {
                    draft.attachment = null;
                    view.thumbnail = null;
                    keep();
                    hooks.update();
                  },
                },
              },
              t("Remove"),
            ),
          ]
        : h(
            "button",
            { class: "button", attrs: { type: "button" }, dataset: { testid: "add-attachment" }, on: { click: choose } },
            t("Attach a photo or file…"),
          ),
    ),
    inlineError(view.errors.attachment, "attachment-error"),
  );
}

function missingChoice() {
  const radio = (value, testid, ...label) =>
    h(
      "label",
      { class: "check" },
      h("input", {
        attrs: { type: "radio", name: "missing", value, checked: draft.missing === value ? "checked" : undefined },
        dataset: { testid },
        on: {
          change: () => {
            draft.missing = value;
            keep();
            refreshPreview();
          },
        },
      }),
      ...label,
    );
  return h(
    "fieldset",
    { class: "stack missing-choice" },
    h("legend", { text: t("When a customer has no value for a column") }),
    radio("drop", "missing-drop", t("Leave it out (“Hi {name}!” becomes “Hi!”)", { name: `{${t("Name")}}` })),
    radio(
      "fallback",
      "missing-fallback",
      t("Write instead:"),
      " ",
      h("input", {
        attrs: { type: "text", value: draft.fallback, placeholder: t("Kak"), "aria-label": t("Text to write instead") },
        dataset: { testid: "missing-text" },
        on: {
          input: (e) => {
            draft.fallback = e.target.value;
            draft.missing = "fallback";
            const radio = e.target.closest("label")?.querySelector("input[type=radio]");
            if (radio) radio.checked = true;
            keep();
            refreshPreview();
          },
        },
      }),
    ),
    radio("skip", "missing-skip", t("Do not send to that customer")),
  );
}

/** This customer's message length, and a warning past WhatsApp's limit. */
function lengthNote(text) {
  const length = [...text].length;
  const limit = draft.attachment ? CAPTION_LIMIT : TEXT_LIMIT;
  return length > limit
    ? h("p", {
        class: "error-text",
        attrs: { role: "alert" },
        dataset: { testid: "too-long" },
        text: draft.attachment
          ? t("This customer's caption has {n} characters; WhatsApp shows at most {limit} under a photo or file.", {
              n: count(length),
              limit: count(limit),
            })
          : t("This customer's message has {n} characters; WhatsApp takes at most {limit}.", { n: count(length), limit: count(limit) }),
      })
    : h("p", {
        class: "muted small",
        dataset: { testid: "rendered-length" },
        text: t("{n} characters in this customer's message", { n: count(length) }),
      });
}

/** Jumps to the first recipient whose number or any value contains the text. */
function finder() {
  const input = h("input", {
    attrs: { id: "find-recipient", type: "search", placeholder: t("Name or number"), "aria-label": t("Show the message of") },
    dataset: { testid: "find-recipient" },
  });
  const status = h("span", { class: "muted", attrs: { role: "status" } });
  const form = h(
    "form",
    { class: "row finder" },
    h("label", { class: "small", attrs: { for: "find-recipient" }, text: t("Show the message of") }),
    input,
    h("button", { class: "button small", attrs: { type: "submit" } }, t("Show")),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const wanted = input.value.trim().toLowerCase();
    if (!wanted) return;
    const digits = wanted.replace(/\D/g, "");
    const found = (view.preview?.recipients ?? []).findIndex(
      (r) =>
        (digits.length >= 3 && r.phone.replace(/\D/g, "").includes(digits)) ||
        Object.values(r.fields).some((v) => String(v).toLowerCase().includes(wanted)),
    );
    if (found < 0) {
      status.textContent = t("No recipient matches “{text}”.", { text: input.value.trim() });
      return;
    }
    view.index = found;
    await refreshPreview();
  });
  return form;
}

/** The customer's name as the chat would show it: a name-like column, else none. */
function customerName(index) {
  const fields = view.preview?.recipients?.[index]?.fields ?? {};
  const key =
    Object.keys(fields).find((k) => /^(nama|name|nama lengkap|full name|panggilan|customer|pelanggan)$/i.test(k.trim())) ??
    Object.keys(fields).find((k) => /nama|name/i.test(k));
  return key ? String(fields[key] ?? "").trim() : "";
}

/** The phone, for the customer shown. */
export function messagePreview() {
  const r = view.rendered;
  const rehearsal = draft.accountId === null;
  if (r instanceof ApiError) {
    return h(
      "div",
      { class: "stack" },
      phonePreview({ message: null, rehearsal, empty: t("The message cannot be shown yet.") }),
      h("p", { class: "inline-error", attrs: { role: "alert" }, dataset: { testid: "template-error" }, text: r.message }),
    );
  }
  const total = recipientCount();
  const attachment = draft.attachment
    ? { ...draft.attachment, thumbnail: view.thumbnail?.id === draft.attachment.id ? view.thumbnail.url : null }
    : null;
  const message = r ? { name: customerName(r.index), phone: r.phone, text: r.text ?? null, skipped: r.skipped } : null;
  const move = async (delta) => {
    view.index = Math.min(Math.max(0, (r?.index ?? 0) + delta), Math.max(0, total - 1));
    await refreshPreview();
  };
  return h(
    "div",
    { class: "stack" },
    phonePreview({
      message,
      attachment,
      rehearsal,
      empty: t("Write the message to see what each customer receives."),
      position: r ? { index: r.index, total, onMove: move } : null,
    }),
    r ? finder() : null,
    r?.text ? lengthNote(r.text) : null,
  );
}

export function messageStep() {
  const textarea = h("textarea", {
    attrs: {
      id: "template",
      rows: "7",
      placeholder: t("Hi {name}, our December promo starts today!", { name: `{${t("Name")}}` }),
      "aria-describedby": "char-count",
    },
    on: { input: onTemplateInput },
  });
  textarea.value = draft.template;
  return h(
    "section",
    { class: "card editor-step", dataset: { step: "message" } },
    h("h2", {}, h("span", { class: "step-number", text: "2" }), t("Message")),
    h(
      "div",
      { class: "editor-grid" },
      h(
        "div",
        { class: "editor-side stack" },
        h("label", { class: "field-label", attrs: { for: "blast-name" } }, t("Blast name")),
        h("input", {
          attrs: { id: "blast-name", type: "text", value: draft.name, placeholder: t("December promo") },
          on: {
            input: (e) => {
              draft.name = e.target.value;
              keep();
            },
          },
        }),
        h("label", { class: "field-label", attrs: { for: "template" } }, t("Message")),
        toolbar(),
        textarea,
        h("div", { class: "token-slot" }, tokenList()),
        h("p", { class: "muted small", attrs: { id: "char-count" }, dataset: { testid: "char-count" }, text: charCount() }),
        attachmentPicker(),
        missingChoice(),
      ),
      h("div", { class: "preview-side preview-slot" }, messagePreview()),
    ),
  );
}
