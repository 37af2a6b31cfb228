// The window's language: English (the keys) and Bahasa Indonesia
// (locales/id.js). Chosen from the system's languages unless the person
// picks one in Settings; numbers and dates follow the same choice.
//
// Every text shown is written as t(englishText, vars); a test checks
// that each one has an Indonesian translation with the same {placeholders}.

import idCommon from "./locales/id.js";
import idLinking from "./locales/id-linking.js";
import idEditor from "./locales/id-editor.js";
import idProgress from "./locales/id-progress.js";
import idTidy from "./locales/id-tidy.js";
import idFormat from "./locales/id-format.js";
import idReasons from "./locales/id-reasons.js";
import idUpdates from "./locales/id-updates.js";

// One catalog per area of the window, merged; a text is in exactly one of them.
const CATALOGS = { id: { ...idCommon, ...idLinking, ...idEditor, ...idProgress, ...idTidy, ...idFormat, ...idReasons, ...idUpdates } };
const LOCALES = { en: "en-GB", id: "id-ID" };

let language = "en";

/** "id" when the system prefers Indonesian (or Malay), else "en". */
export function systemLanguage() {
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language ?? "en"];
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split(/[-_]/)[0];
    if (base === "id" || base === "in" || base === "ms") return "id";
    if (base === "en") return "en";
  }
  return "en";
}

/** Uses `code` ("en" | "id"), or the system's language when it is null. */
export function setLanguage(code) {
  language = code === "id" || code === "en" ? code : systemLanguage();
  document.documentElement.lang = language;
}

export function currentLanguage() {
  return language;
}

/**
 * The BCP 47 locale for Intl formatting: the system's own English (US, UK,
 * Singapore, ...) when the window is in English, else Indonesia's.
 */
export function locale() {
  const system = navigator.language ?? "";
  if (language === "en" && /^en\b/i.test(system)) return system;
  return LOCALES[language];
}

/** The text in the current language, with {name} placeholders filled. */
export function t(text, vars) {
  const translated = CATALOGS[language]?.[text] ?? text;
  if (!vars) return translated;
  return translated.replace(/\{(\w+)\}/g, (whole, key) => (key in vars ? String(vars[key]) : whole));
}

/** Marks a text for translation where it is defined; `t(value)` translates it where shown. */
export const N_ = (text) => text;

/** The whole catalog of a language (the tests read it to find English left in the window). */
export function catalog(code) {
  return { ...(CATALOGS[code] ?? {}) };
}
