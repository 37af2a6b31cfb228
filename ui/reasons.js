// What the core says, in the window's language. The core explains itself in
// English for logs and the CLI; the window shows the same thing from its
// stable code and structured details, translated.

import { t } from "./i18n.js";

/** Translations of the core's reasons by code: `(details) => text`. */
const REASONS = {};

/**
 * The text of a core reason: translated from its `code` (and `details`, the
 * structured values the core sent with it) when the window knows it, else
 * the core's own `english` text.
 */
export function reasonText(code, details, english) {
  const translate = REASONS[code];
  if (translate) return translate(details ?? {});
  return english ?? (code ? t("Code {code}", { code }) : "");
}
