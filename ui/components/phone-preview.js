// What the customer sees: a WhatsApp chat on a phone, with the message in a
// bubble formatted as WhatsApp formats it (*bold*, _italic_, ~strike~,
// ```monospace```, `code`, links), the attachment above it, and the
// customer's name in the chat's header. Built from DOM nodes only: the text
// comes from spreadsheets and is never read as HTML.

import { N_, locale, t } from "../i18n.js";
import { count, h } from "../view.js";

/** The simple markers and the element each one makes. */
const MARKERS = { "*": "strong", _: "em", "~": "del" };

const space = (c) => c === undefined || /\s/u.test(c);
const wordy = (c) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** The longest text previewed (WhatsApp's own limit for a message). */
const MAX_PREVIEW = 65_536;

/**
 * Where the marker at `open` closes on its line, or -1 (the marker must hug
 * the text inside). `dead` remembers, per marker, up to where a line has no
 * closer at all, so a line full of unclosed markers is read once, not once
 * per marker.
 */
function closing(text, open, marker, dead) {
  if (space(text[open + 1]) || text[open + 1] === marker) return -1;
  if (open < (dead[marker] ?? -1)) return -1;
  for (let j = open + 2; j < text.length; j += 1) {
    const c = text[j];
    if (c === "\n") {
      dead[marker] = j;
      return -1;
    }
    if (c === marker && !space(text[j - 1]) && !wordy(text[j + 1])) return j;
  }
  dead[marker] = text.length;
  return -1;
}

const LINK = /(?:https?:\/\/|www\.)[^\s]+/iuy;
const TRAILING = new Set([".", ",", ";", ":", "!", "?", ")", "]", "'", '"']);

/** A link's text from `at`, or "" (http(s):// or www., without trailing punctuation). */
function linkAt(text, at) {
  const first = text[at];
  if ((first !== "h" && first !== "H" && first !== "w" && first !== "W") || wordy(text[at - 1])) return "";
  LINK.lastIndex = at;
  const match = LINK.exec(text);
  if (!match) return "";
  let end = match[0].length;
  while (end > 0 && TRAILING.has(match[0][end - 1])) end -= 1;
  return match[0].slice(0, end);
}

/**
 * WhatsApp's formatting of `text` as a tree: [{type, text}|{type, children}],
 * types "text", "strong", "em", "del", "mono" (```…```), "code" (`…`), "link".
 */
export function parseFormatting(text) {
  const out = [];
  const dead = {};
  let noMoreMono = false;
  let plain = "";
  const flush = () => {
    if (plain) out.push({ type: "text", text: plain });
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (!noMoreMono && text.startsWith("```", i)) {
      const end = text.indexOf("```", i + 3);
      if (end < 0) noMoreMono = true;
      if (end > i + 3) {
        flush();
        out.push({ type: "mono", text: text.slice(i + 3, end) });
        i = end + 3;
        continue;
      }
    }
    if (c === "`" && !space(text[i + 1])) {
      const end = text.indexOf("`", i + 1);
      const inside = end > i + 1 ? text.slice(i + 1, end) : "";
      if (inside && !inside.includes("\n") && !space(text[end - 1])) {
        flush();
        out.push({ type: "code", text: inside });
        i = end + 1;
        continue;
      }
    }
    if (MARKERS[c] && !wordy(text[i - 1])) {
      const end = closing(text, i, c, dead);
      if (end > 0) {
        flush();
        out.push({ type: MARKERS[c], children: parseFormatting(text.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    const link = linkAt(text, i);
    if (link) {
      flush();
      out.push({ type: "link", text: link });
      i += link.length;
      continue;
    }
    plain += c;
    i += 1;
  }
  flush();
  return out;
}

/** The formatted text as DOM nodes. */
export function formatted(text) {
  if (text.length > MAX_PREVIEW) return [...toNodes(parseFormatting(text.slice(0, MAX_PREVIEW))), document.createTextNode("…")];
  return toNodes(parseFormatting(text));
}

function toNodes(tree) {
  return tree.map((node) => {
    switch (node.type) {
      case "text":
        return document.createTextNode(node.text);
      case "mono":
        return h("code", { class: "wa-mono", text: node.text });
      case "code":
        return h("code", { class: "wa-code", text: node.text });
      case "link":
        // Drawn as a link, but not one: the preview opens nothing.
        return h("span", { class: "wa-link", text: node.text });
      default:
        return h(node.type, {}, toNodes(node.children));
    }
  });
}

export const KINDS = { image: N_("photo"), video: N_("video"), audio: N_("audio"), document: N_("document") };

/** "1,2 MB", "34 KB". */
export function sizeText(bytes) {
  return bytes >= 1024 * 1024
    ? t("{n} MB", { n: new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(bytes / (1024 * 1024)) })
    : t("{n} KB", { n: count(Math.max(1, Math.round(bytes / 1024))) });
}

const ICONS = { image: "🖼", video: "🎬", audio: "🎵", document: "📄" };

function attachmentView(a) {
  if (a.kind === "image" && a.thumbnail) {
    return h("img", { class: "wa-photo", attrs: { src: a.thumbnail, alt: a.name }, dataset: { testid: "preview-thumbnail" } });
  }
  return h(
    "div",
    { class: `wa-file wa-file-${a.kind}`, dataset: { testid: "preview-file" } },
    h("span", { class: "wa-file-icon", attrs: { "aria-hidden": "true" }, text: ICONS[a.kind] ?? ICONS.document }),
    h(
      "span",
      { class: "wa-file-text" },
      h("span", { class: "wa-file-name", text: a.name }),
      h("span", { class: "wa-file-meta", text: `${t(KINDS[a.kind] ?? a.kind)} · ${sizeText(a.bytes ?? 0)}` }),
    ),
  );
}

/** The time a message would show, now, in the window's clock style. */
function clockNow() {
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date());
}

/**
 * The phone. `message`: {name, phone, text, skipped} for the customer shown
 * (text null when skipped); `attachment`: {name, kind, bytes, thumbnail?};
 * `rehearsal`: drawn as one; `position`: {index, total, onMove(delta)} for the
 * previous/next customer switch; `note`: a line under the phone.
 */
export function phonePreview({ message, attachment = null, rehearsal = false, position = null, empty = "", note = null }) {
  const title = message?.name || message?.phone || t("Customer");
  const chat = [];
  if (!message) {
    chat.push(h("p", { class: "wa-empty", text: empty }));
  } else if (message.text === null || message.text === undefined) {
    chat.push(
      h("p", { class: "wa-skipped", dataset: { testid: "rendered-skip" }, text: t("Skipped: {reason}", { reason: message.skipped }) }),
    );
  } else {
    const audio = attachment?.kind === "audio";
    const bubble = (...children) =>
      h(
        "div",
        { class: "wa-bubble" },
        children,
        h("span", { class: "wa-meta", attrs: { "aria-hidden": "true" }, text: `${clockNow()} ✓✓` }),
      );
    if (attachment && !audio) {
      chat.push(
        bubble(
          attachmentView(attachment),
          message.text ? h("p", { class: "wa-text", dataset: { testid: "rendered" } }, formatted(message.text)) : null,
        ),
      );
    } else {
      chat.push(bubble(h("p", { class: "wa-text", dataset: { testid: "rendered" } }, formatted(message.text))));
      // WhatsApp gives audio no caption: the text goes first, then the audio.
      if (audio) chat.push(bubble(attachmentView(attachment)));
    }
  }
  const switcher =
    position && position.total > 1
      ? h(
          "div",
          { class: "wa-switch" },
          h(
            "button",
            {
              class: "button small",
              attrs: { type: "button", "aria-label": t("Previous recipient"), disabled: position.index === 0 ? "disabled" : undefined },
              dataset: { testid: "previous-customer" },
              on: { click: () => position.onMove(-1) },
            },
            "‹",
          ),
          h("span", {
            class: "muted",
            dataset: { testid: "customer-position" },
            text: t("Customer {n} of {total}", { n: count(position.index + 1), total: count(position.total) }),
          }),
          h(
            "button",
            {
              class: "button small",
              attrs: { type: "button", disabled: position.index + 1 >= position.total ? "disabled" : undefined },
              dataset: { testid: "next-customer" },
              on: { click: () => position.onMove(1) },
            },
            t("Next customer"),
            " ›",
          ),
        )
      : null;
  return h(
    "div",
    {
      class: `phone-preview${rehearsal ? " is-rehearsal" : ""}`,
      dataset: { testid: "phone-preview", kind: rehearsal ? "rehearsal" : "real" },
    },
    switcher,
    h(
      "div",
      { class: "phone", attrs: { role: "group", "aria-label": t("What the customer sees") } },
      rehearsal
        ? h("p", { class: "rehearsal-banner", dataset: { testid: "preview-rehearsal" }, text: t("Rehearsal — nothing is sent") })
        : null,
      h(
        "header",
        { class: "wa-header" },
        h("span", { class: "wa-avatar", attrs: { "aria-hidden": "true" }, text: [...title][0]?.toUpperCase() ?? "?" }),
        h(
          "span",
          { class: "wa-who" },
          h("span", { class: "wa-name", dataset: { testid: "preview-name" }, text: title }),
          message?.name && message?.phone
            ? h("span", { class: "wa-phone", dataset: { testid: "preview-phone" }, text: message.phone })
            : null,
        ),
      ),
      h("div", { class: "wa-chat" }, chat),
    ),
    note,
  );
}
