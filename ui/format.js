// Dates, times, zones and durations as the person reads them: in the
// window's language, 24-hour in Indonesian, and zones as the owner knows
// them (WIB, WITA, WIT, or the city) instead of IANA ids.

import { currentLanguage, locale, t } from "./i18n.js";

/** Indonesia's three zones by their IANA ids. */
const INDONESIA = {
  "Asia/Jakarta": "WIB",
  "Asia/Pontianak": "WIB",
  "Asia/Makassar": "WITA",
  "Asia/Ujung_Pandang": "WITA",
  "Asia/Jayapura": "WIT",
};

/** Zones whose IANA id names no city a person would say. */
const SPECIAL = { UTC: "UTC", "Etc/UTC": "UTC", "Etc/GMT": "UTC", GMT: "UTC", "Etc/Universal": "UTC", Universal: "UTC", Zulu: "UTC" };

/** "WIB" for Asia/Jakarta, "UTC" for Etc/UTC, else the city ("Kuala Lumpur"). */
export function zoneName(timeZone) {
  if (!timeZone) return "";
  if (INDONESIA[timeZone]) return INDONESIA[timeZone];
  if (SPECIAL[timeZone]) return SPECIAL[timeZone];
  const city = timeZone.split("/").pop() ?? timeZone;
  return city.replace(/_/g, " ");
}

/** Intl options for the window's language: 24-hour in Indonesian. */
function clock() {
  return currentLanguage() === "id" ? { hourCycle: "h23" } : {};
}

function safely(format, ms) {
  try {
    return format();
  } catch {
    return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  }
}

/** "3 Des 2026 14.05 WIB": an instant in a zone, with the zone's short name. */
export function formatTime(ms, timeZone) {
  if (ms === null || ms === undefined) return "—";
  return safely(() => {
    const text = new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short", timeZone, ...clock() }).format(new Date(ms));
    return timeZone ? `${text} ${zoneName(timeZone)}` : text;
  }, ms);
}

/** "14.05 WIB" today, "besok 09.00 WIB", else the date and time. */
export function formatWhen(ms, timeZone, nowMs = Date.now()) {
  if (ms === null || ms === undefined) return "—";
  return safely(() => {
    const day = (at) =>
      new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(at));
    const time = new Intl.DateTimeFormat(locale(), { timeStyle: "short", timeZone, ...clock() }).format(new Date(ms));
    const zone = timeZone ? ` ${zoneName(timeZone)}` : "";
    if (day(ms) === day(nowMs)) return t("today {time}", { time: `${time}${zone}` });
    if (day(ms) === day(nowMs + 86_400_000)) return t("tomorrow {time}", { time: `${time}${zone}` });
    return formatTime(ms, timeZone);
  }, ms);
}

/** "in 34 s", "in 5 min", "in 2 h 10 min" (or "now"), for what is due soon. */
export function formatIn(ms, nowMs = Date.now()) {
  const seconds = Math.max(0, Math.round((ms - nowMs) / 1000));
  if (seconds <= 0) return t("now");
  if (seconds < 60) return t("in {seconds} s", { seconds });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t("in {minutes} min", { minutes });
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? t("in {hours} h {minutes} min", { hours, minutes: rest }) : t("in {hours} h", { hours });
}

/** A duration: "40 s", "12 min", "3 h 5 min". */
export function formatDuration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return t("{seconds} s", { seconds });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t("{minutes} min", { minutes });
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? t("{hours} h {minutes} min", { hours, minutes: rest }) : t("{hours} h", { hours });
}
