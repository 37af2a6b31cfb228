// What the core says, in the window's language. The core explains itself in
// English for logs and the command line; the window says the same thing from
// its stable code and the structured details sent beside it, translated.
//
// Keys: "pause.<PauseCode>", "delivery.<DeliveryCode>", "row.<invalid-row
// code>", and "<details.kind>.<details.reason>" for errors (see
// crates/core/src/error.rs, `Details`).

import { N_, t } from "./i18n.js";

const list = (values) => (values ?? []).join(", ");

/** The pacing settings an error can name, by the core's words. */
const SETTINGS = {
  delay: N_("pause between messages"),
  rest: N_("rest"),
  "batch size": N_("messages before a rest"),
  "messages per minute": N_("messages per minute"),
};

/** The actions an error about a finished blast can name. */
const ACTIONS = { paused: N_("paused"), resumed: N_("resumed"), cancelled: N_("cancelled") };

const REASONS = {
  // Why a blast stopped sending (crates/core/src/reason.rs, PauseCode).
  "pause.paused_by_you": () => t("You paused it."),
  "pause.error_streak": () =>
    t("Several messages in a row failed, which can be the first sign of a ban. Check the report, then resume it."),
  "pause.needs_decision": () => t("Only messages whose fate is unknown are left: decide whether to send them again."),
  "pause.attachment_unreadable": () => t("The attachment cannot be read any more. Put the file back, then resume."),
  "pause.template_invalid": () => t("The message cannot be written any more. Create the blast again."),
  "pause.restored": () =>
    t(
      "Restored from a backup. Messages may have gone out after the backup was taken that Blastdesk cannot know of: check the report, then resume.",
    ),
  "pause.options_unreadable": () => t("The blast's saved settings cannot be read. Create the blast again."),
  "pause.store_error": () => t("Blastdesk could not save its progress; it tries again by itself."),
  "pause.account_removed": () => t("Its WhatsApp number was removed from Blastdesk."),
  "pause.not_connected": () => t("The WhatsApp number is not connected; sending goes on by itself when it is."),
  "pause.logged_out": () => t("The WhatsApp number was logged out. Link it again to go on."),
  "pause.rate_limited": () => t("WhatsApp asked this number to slow down. Wait a while before resuming."),
  "pause.temporarily_banned": () =>
    t("WhatsApp has temporarily banned this number. Wait until the ban ends; sending too soon makes it longer."),
  "pause.account_locked": () => t("WhatsApp locked this number. Open WhatsApp on the phone to see why and ask for a review."),
  "pause.connection_replaced": () => t("WhatsApp Web or another app took over this number's connection. Reconnect it here to go on."),
  "pause.outdated_client": () => t("WhatsApp no longer accepts this version of Blastdesk. Update Blastdesk to go on."),
  "pause.reach_out_restricted": () =>
    t(
      "WhatsApp refuses this number's messages to people who have not written to it first, often the step before a ban. Wait a day or more, and send to customers who know your number.",
    ),

  // Why a message failed, waits, was skipped or has an unknown fate (DeliveryCode).
  "delivery.transient": () => t("A passing problem; tried again later."),
  "delivery.not_on_whatsapp": () => t("This number is not on WhatsApp."),
  "delivery.invalid_number": () => t("WhatsApp says this number is invalid."),
  "delivery.not_connected": () => t("The WhatsApp number was not connected."),
  "delivery.logged_out": () => t("The WhatsApp number was logged out."),
  "delivery.rate_limited": () => t("WhatsApp asked the number to slow down."),
  "delivery.temporarily_banned": () => t("WhatsApp had temporarily banned the number."),
  "delivery.missing_value": () => t("The message needs a value this customer's row does not have."),
  "delivery.do_not_contact": () => t("On the do-not-contact list."),
  "delivery.cancelled": () => t("The blast was cancelled before this one was sent."),
  "delivery.unknown_left_unsent": () => t("Fate unknown; you chose not to send it again."),
  "delivery.sent_again": () => t("Fate unknown; sent again in a new blast."),
  "delivery.restored": () => t("Was being sent when the restored backup was taken."),
  "delivery.store_error": () => t("Was being sent when Blastdesk's data failed; its outcome was lost."),
  "delivery.refused": () => t("WhatsApp took the message, then refused it; it reached no one."),
  "delivery.reach_out_restricted": () => t("Waiting: WhatsApp refuses this number's messages to people who have not written first."),

  // Why a row of a list cannot be sent to (crates/core/src/phone.rs).
  "row.phone_missing": () => t("No phone number."),
  "row.phone_not_a_number": () => t("Not a phone number: it contains letters or symbols."),
  "row.phone_too_short": () => t("Too short to be a phone number."),
  "row.phone_too_long": () => t("Too long to be a phone number."),
  "row.phone_invalid": () => t("Not a valid phone number."),
  "row.phone_landline": () => t("A landline number, which cannot receive WhatsApp messages."),
  "row.phone_not_mobile": () => t("Not a mobile number."),

  // Errors, from their details (crates/core/src/error.rs, Details).
  "import.unreadable": (d) => t("{file} cannot be read. Check that it is an Excel or CSV file and not open in another program.", d),
  "import.empty": (d) => t("{file} is empty: it has no rows.", d),
  "import.too_large": (d) => t("{file} is too large to be a customer list.", d),
  "import.encrypted": (d) =>
    t(
      "{file} is protected with a password: open it in Excel, remove the password (File > Info > Protect Workbook), save it and add it again.",
      d,
    ),
  "import.unsupported_format": (d) => t("{file} is not a spreadsheet Blastdesk reads (.{extension}); use .xlsx, .xls, .ods or .csv.", d),
  "import.sheet_not_found": (d) =>
    t("{file} has no sheet named “{sheet}”; its sheets are: {available}.", { ...d, available: list(d.available) }),
  "import.phone_column_unknown": (d) => t("{file}: no column looks like phone numbers; choose the phone column.", d),
  "import.no_such_column": (d) => t("{file} has no column “{column}”.", d),
  "template.unclosed": (d) => t("The opening brace at character {position} is never closed.", { position: d.position + 1 }),
  "template.unopened": (d) => t("The closing brace at character {position} closes nothing.", { position: d.position + 1 }),
  "template.empty": (d) =>
    t("The braces at character {position} are empty: put a column or choices in them.", { position: d.position + 1 }),
  "template.too_deep": (d) => t("The choices at character {position} are nested too deep.", { position: d.position + 1 }),
  "template.unknown_columns": (d) =>
    t("The message uses {names}, but the list has no such column (its columns: {columns}).", {
      names: list(d.names?.map((n) => `{${n}}`)),
      columns: list(d.columns),
    }),
  "pacing.range_reversed": (d) => t("The smallest {setting} is larger than the largest.", { setting: t(SETTINGS[d.setting] ?? d.setting) }),
  "pacing.zero": (d) => t("The {setting} must be at least 1.", { setting: t(SETTINGS[d.setting] ?? d.setting) }),
  "pacing.too_long": () => t("A pause or rest longer than a day is not allowed."),
  "pacing.empty_window": () => t("The sending hours start when they end, so there is no time to send."),
  "schedule.no_days": () => t("Choose one day of the week or more."),
  "schedule.bad_weekday": (d) => t("{day} is not a day of the week.", d),
  "schedule.bad_month_day": (d) => t("{day} is not a day of the month (1 to 31).", d),
  "schedule.in_the_past": () => t("That date and time have already passed."),
  "blast.no_name": () => t("Give the blast a name."),
  "blast.name_too_long": (d) => t("The blast's name has {chars} characters; give it at most {max}.", d),
  "blast.nothing_to_send": () => t("Write a message, or attach a file to send."),
  "blast.no_recipients": () => t("No one to send to: the list holds no usable number."),
  "blast.sample_recipients": () => t("The practice customers are made up: send to them only from the rehearsal account."),
  "blast.attachment": () => t("The attached file cannot be read."),
  "blast.keep_attachment": (d) => t("Blastdesk cannot keep a copy of the attachment in {folder}.", d),
  "blast.no_data_folder": () => t("An attachment needs Blastdesk's data folder, which is not available."),
  "store.not_a_database": (d) => t("{path} is not a Blastdesk database; it was left untouched.", d),
  "store.foreign_database": (d) => t("{path} is another program's database; it was left untouched.", d),
  "store.too_new": (d) =>
    t(
      "{path} was written by a newer Blastdesk (database version {found}; this one reads up to {supported}). The file was left untouched.",
      d,
    ),
  "store.corrupt": (d) => t("{path} is damaged and cannot be read.", d),
  "store.busy": (d) => t("{path} is locked by another program.", d),
  "store.audience_exists": (d) => t("A list named “{name}” exists already: choose another name or replace it.", d),
  "store.audience_not_found": (d) => t("There is no saved list named “{name}”.", d),
  "store.not_a_backup": (d) => t("{path} is not a Blastdesk backup. Nothing was changed.", d),
  "store.unknown_time_zone": (d) => t("“{name}” is not a time zone Blastdesk knows.", d),
  "store.blast_finished": (d) => t("This blast is finished; it cannot be {action} any more.", { action: t(ACTIONS[d.action] ?? d.action) }),
  "phone.unusable": (d) =>
    t("“{value}” is not a usable number: {problem} Nothing was added.", {
      value: d.value,
      problem: reasonText(`row.${d.problem}`, {}, ""),
    }),
  "phone.not_for_pairing": (d) =>
    t("“{value}” cannot be used for a pairing code: {problem}", {
      value: d.value,
      problem: reasonText(`row.${d.problem}`, {}, ""),
    }),
  "phone.none_given": () => t("Type at least one number."),
  "store.data_folder_in_use": () => t("Another Blastdesk program is using this data. Nothing was changed."),
};

/**
 * The text of a core reason: translated from its `key` (e.g.
 * "pause.error_streak") and `details` when the window knows it, else the
 * core's own `english`.
 */
export function reasonText(key, details, english) {
  const translate = REASONS[key];
  if (translate) return translate(details ?? {});
  return english ?? (key ? t("Code {code}", { code: key }) : "");
}

/** The text of an error's details ({kind, reason, ...}), or null if the window has no words for it. */
export function detailsText(details) {
  if (!details?.kind || !details?.reason) return null;
  const translate = REASONS[`${details.kind}.${details.reason}`];
  return translate ? translate(details) : null;
}

/** Whether the window has words for this key (tests list the codes it lacks). */
export function knows(key) {
  return key in REASONS;
}

/** Why a blast is paused, from its PauseCode (or the core's English). */
export function pauseText(code, english) {
  return reasonText(code ? `pause.${code}` : null, null, english);
}

/** Why a message failed, waits or was skipped, from its DeliveryCode (or the core's English). */
export function deliveryText(code, english) {
  return reasonText(code ? `delivery.${code}` : null, null, english);
}

/** Why a row of a list cannot be sent to, from its code (or the core's English). */
export function rowText(code, english) {
  return reasonText(code ? `row.${code}` : null, null, english);
}
