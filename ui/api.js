// The only module that talks to Tauri. Screens import `api` and nothing else
// of the backend; every failure arrives as an ApiError with a stable `code`.

import { N_, currentLanguage, t } from "./i18n.js";
import { detailsText } from "./reasons.js";

const tauri = window.__TAURI__;

/**
 * What an error code means, for people reading another language than the
 * core's English: shown translated, with the core's specific message after.
 */
const MEANINGS = {
  not_a_backup: N_("This file is not a Blastdesk backup; nothing was changed."),
  file_unreadable: N_("The file cannot be read."),
  file_empty: N_("The file is empty."),
  file_encrypted: N_("The file is protected with a password; save a copy without one."),
  file_unsupported: N_("This kind of file cannot be read; use Excel (.xlsx) or CSV."),
  sheet_not_found: N_("That sheet is not in the file."),
  phone_column_unknown: N_("It is unclear which column holds the phone numbers."),
  audience_exists: N_("An audience with that name exists already."),
  template_invalid: N_("The message cannot be used."),
  pacing_invalid: N_("These pacing settings cannot work."),
  attachment_unreadable: N_("The attachment cannot be read."),
  io: N_("A file could not be read or written."),
  invalid_input: N_("This cannot be done as asked."),
};

/**
 * The error in the window's language: from its details when the core sent
 * them (reasons.js), else what its code means with the core's English after
 * it, else the core's English.
 */
function words(code, message, details) {
  const said = detailsText(details);
  if (said) return said;
  return currentLanguage() !== "en" && MEANINGS[code] ? `${t(MEANINGS[code])} (${message})` : message;
}

export class ApiError extends Error {
  constructor(code, message, details = null) {
    super(words(code, message, details));
    this.name = "ApiError";
    this.code = code;
    /** {kind, reason, ...values} from the core, or null. */
    this.details = details;
    /** The core's own English, for support and logs. */
    this.english = message;
  }

  /** Normalises whatever a command rejected with into an ApiError. */
  static from(raw) {
    if (raw instanceof ApiError) return raw;
    if (raw && typeof raw === "object" && typeof raw.code === "string") {
      return new ApiError(raw.code, String(raw.message ?? raw.code), raw.details ?? null);
    }
    return new ApiError("internal", String(raw?.message ?? raw));
  }
}

async function call(command, args) {
  if (!tauri?.core) {
    throw new ApiError("no_backend", "Blastdesk's window is open without the app behind it.");
  }
  try {
    return await tauri.core.invoke(command, args);
  } catch (raw) {
    throw ApiError.from(raw);
  }
}

export const api = {
  /** Version, data folder, logs folder, and why the database failed to open (if it did). */
  appInfo: () => call("app_info"),
  /** Counts of what the database holds. */
  storeSummary: () => call("store_summary"),
  /** Saved audiences: id, name, contacts, updatedAt (Unix ms). */
  listAudiences: () => call("list_audiences"),
  /** Deletes a saved audience (blasts made from it keep their recipients). */
  deleteAudience: (name) => call("delete_audience", { name }),
  /** Opens the file dialog; resolves to the chosen files as [{id, name}]. */
  pickFiles: () => call("pick_files"),
  /**
   * Builds a preview from chosen files ([{id, sheet?, mapping?}]) and saved
   * audiences (names). Resolves to {status: "ready", ...} or
   * {status: "needsMapping", fileId, file, sheet, columns}.
   */
  importPreview: (files, audiences) => call("import_preview", { args: { files, audiences } }),
  /** Saves the last preview's recipients as an audience. */
  saveAudience: (name, replace = false) => call("save_audience", { name, replace }),
  /** The default country's two-letter code, e.g. "ID". */
  defaultCountry: () => call("default_country"),
  setDefaultCountry: (code) => call("set_default_country", { code }),
  /** Whether Blastdesk starts at login (in the tray). */
  startAtLogin: () => call("start_at_login"),
  setStartAtLogin: (enabled) => call("set_start_at_login", { enabled }),
  /** {current, pinned, overridden}: the WhatsApp Web version announced. */
  whatsappVersion: () => call("whatsapp_version"),
  /** Sets it ("" goes back to the built-in one). */
  setWhatsappVersion: (version) => call("set_whatsapp_version", { version }),
  /** Every blast with its counts, newest first. */
  listBlasts: () => call("list_blasts"),
  /** Accounts with their status: [{id, name, businessUnit, kind, phone, status: {status, ...}, needsAttention, timeZone}]. */
  listAccounts: () => call("list_accounts"),
  addAccount: (name, businessUnit) => call("add_account", { name, businessUnit }),
  /** Starts linking; QR codes and statuses then arrive as "account" events. */
  linkAccount: (accountId, phone = null) => call("link_account", { accountId, phone }),
  logoutAccount: (accountId) => call("logout_account", { accountId }),
  reconnectAccount: (accountId) => call("reconnect_account", { accountId }),
  /** Gives up a link under way; resolves to false when the phone had accepted it already. */
  cancelLink: (accountId) => call("cancel_link", { accountId }),
  renameAccount: (accountId, name, businessUnit) => call("rename_account", { accountId, name, businessUnit }),
  removeAccount: (accountId) => call("remove_account", { accountId }),
  /** What sending to the loaded recipients would look like: pacing, risks, estimated finish. */
  blastPlan: (accountId) => call("blast_plan", { accountId }),
  /** Changes an account's pacing; resolves to the risks of the new settings. */
  setAccountPacing: (accountId, pacing) => call("set_account_pacing", { accountId, pacing }),
  /** The pacing presets from the core, slowest first: [{preset, pacing, perHour}]. */
  pacingPresets: () => call("pacing_presets"),
  /** One loaded recipient's message: {index, phone, text} or {index, phone, skipped}. */
  renderMessage: (template, missing, index) => call("render_message", { template, missing, index }),
  /** Creates a blast for the loaded recipients and starts it: {blastId, recipients}. */
  createBlast: (args) => call("create_blast", { args }),
  pauseBlast: (blastId) => call("pause_blast", { blastId }),
  resumeBlast: (blastId) => call("resume_blast", { blastId }),
  cancelBlast: (blastId) => call("cancel_blast", { blastId }),
  /** Sends again (resend = true) or leaves unsent the messages of unknown fate. */
  decideUnknown: (blastId, resend) => call("decide_unknown", { blastId, resend }),
  /** {blast, total, rows}: the per-recipient report (first rows). */
  blastReport: (blastId) => call("blast_report", { blastId }),
  /** {blastId, minutes: [{minuteMs, sent, failed}]}: sends minute by minute, for the chart. */
  blastTimeline: (blastId) => call("blast_timeline", { blastId }),
  /** Asks where to save the report and writes it; resolves to the path, or null if cancelled. */
  exportReport: (blastId) => call("export_report", { blastId }),
  /** Schedules: [{id, name, rule, timeZone, graceSeconds, blast, refresh, enabled, nextRunAt}]. */
  listSchedules: () => call("list_schedules"),
  scheduleRuns: (scheduleId) => call("schedule_runs", { scheduleId }),
  /** Adds a schedule; `refreshFileId`: a chosen file to read again before each run. */
  addSchedule: (spec, refreshFileId = null, attachmentId = null) => call("add_schedule", { spec, refreshFileId, attachmentId }),
  updateSchedule: (scheduleId, spec, refreshFileId = null, keepRefresh = true) =>
    call("update_schedule", { scheduleId, spec, refreshFileId, keepRefresh }),
  setScheduleEnabled: (scheduleId, enabled) => call("set_schedule_enabled", { scheduleId, enabled }),
  removeSchedule: (scheduleId) => call("remove_schedule", { scheduleId }),
  /** This computer's IANA time zone, e.g. "Asia/Jakarta". */
  computerTimeZone: () => call("computer_time_zone"),
  /** {language: "en" | "id" | null (the system's), welcomeDone, draft (JSON text or null)}. */
  preferences: () => call("preferences"),
  setLanguage: (language) => call("set_language", { language }),
  /** Tells the shell the system language the window found (for the tray and notifications). */
  noteWindowLanguage: (language) => call("note_window_language", { language }),
  finishWelcome: () => call("finish_welcome"),
  /** Keeps the New blast being written (null: none). */
  saveDraft: (draft) => call("save_draft", { draft }),
  /** Saves the sample audience: {audience, contacts, template}. */
  startRehearsal: (language) => call("start_rehearsal", { language }),
  /** Asks where to and writes a backup; resolves to the path, or null if cancelled. */
  backupDatabase: () => call("backup_database"),
  /** Restores a backup (a granted file's id, or else one asked for; Blastdesk then restarts); the path, or null. */
  restoreDatabase: (fileId = null) => call("restore_database", { fileId }),
  openDataFolder: () => call("open_data_folder"),
  /** [{phone, reason, note, addedAt}], newest first. */
  listDoNotContact: () => call("list_do_not_contact"),
  /** Numbers typed by the person; resolves to {added, already, invalid}. */
  addDoNotContact: (numbers) => call("add_do_not_contact", { numbers }),
  addDoNotContactFile: (fileId) => call("add_do_not_contact_file", { fileId }),
  removeDoNotContact: (phone) => call("remove_do_not_contact", { phone }),
  optOutWords: () => call("opt_out_words"),
  setOptOutWords: (words) => call("set_opt_out_words", { words }),
  /** Opens the file dialog for an attachment: {id, name, kind, bytes} or null. */
  pickAttachment: () => call("pick_attachment"),
  /** Sends a finished blast again to its failed and unknown ones: {blastId, recipients}. */
  resendBlast: (blastId) => call("resend_blast", { blastId }),
  /** Where updating Blastdesk stands: {state: "not_checked" | "checking" | "up_to_date" | "available" | ..., offer?}. */
  updateStatus: () => call("update_status"),
  /** Looks for an update now; resolves to the status it leads to. */
  checkForUpdate: () => call("check_for_update"),
  /** Downloads, verifies and installs the update found, then Blastdesk restarts. */
  installUpdate: () => call("install_update"),
  /** "automatic" (at start, then daily) or "on_request". */
  updatePolicy: () => call("update_policy"),
  setUpdatePolicy: (policy) => call("set_update_policy", { policy }),
  /** Listens to a backend event; resolves to a function that stops listening. */
  on: (event, handler) => {
    if (!tauri?.event) return Promise.resolve(() => {});
    return tauri.event.listen(event, (e) => handler(e.payload));
  },
};
