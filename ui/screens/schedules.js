// Schedules: blasts that run once or every day, week or month, in a time
// zone, while Blastdesk sits in the tray. Each shows its rule in words and
// its next run in its own zone (and this computer's, when they differ); the
// form shows only the fields its repeat needs, with a zone picker.

import { t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { emptyState, errorPanel, h, present, screenHeader } from "../view.js";
import { formatTime, formatWhen, zoneName } from "../format.js";
import { ask } from "../components/dialog.js";
import { audienceChoice } from "../components/recipient-chooser.js";
import { describeRule, nextSlot, ruleFields, scheduleMade, takeNotice } from "./new-blast/when.js";

let schedules = [];
let accounts = [];
let audiences = [];
let here = "UTC";
let problem = null; // an ApiError from the list or a card's action
let notice = null; // what Blastdesk did by itself (Start at login)
let root = null;
let editing = null; // the schedule being edited, or null for a new one
let linked = null; // {id, name}: a chosen spreadsheet to read before each run
let dropLinked = false; // editing: stop reading the schedule's spreadsheet

api.on("schedule", () => reload());

async function reload() {
  try {
    schedules = await api.listSchedules();
  } catch (error) {
    problem = ApiError.from(error);
  }
  update();
}

/** Runs a card's action; its error shows on that card (`scheduleId`). */
async function act(scheduleId, action) {
  problem = null;
  try {
    await action();
  } catch (error) {
    problem = Object.assign(ApiError.from(error), { scheduleId });
  }
  await reload();
}

function card(schedule) {
  const next = schedule.nextRunAt;
  const nextText = next
    ? schedule.timeZone === here
      ? formatWhen(next, schedule.timeZone)
      : `${formatWhen(next, schedule.timeZone)} · ${formatTime(next, here)}`
    : t("no next run");
  const remove = async () => {
    const sure = await ask({
      title: t("Delete “{name}”?", { name: schedule.name }),
      body: t("Delete “{name}”? The blasts it made stay.", { name: schedule.name }),
      confirm: t("Delete"),
      danger: true,
      kind: "delete-schedule",
    });
    if (sure) act(schedule.id, () => api.removeSchedule(schedule.id));
  };
  return h(
    "article",
    {
      class: "card schedule-card",
      dataset: { testid: "schedule-card", scheduleId: String(schedule.id), enabled: String(schedule.enabled) },
    },
    h(
      "header",
      { class: "row" },
      h("h2", { text: schedule.name }),
      schedule.enabled ? null : h("span", { class: "badge badge-paused", text: t("Paused") }),
    ),
    h("p", {
      dataset: { testid: "schedule-rule" },
      attrs: { title: schedule.timeZone },
      text: `${describeRule(schedule.rule)} ${zoneName(schedule.timeZone)}`,
    }),
    h("p", { class: "muted", dataset: { testid: "next-run" }, text: t("Next run: {time}", { time: nextText }) }),
    schedule.refresh ? h("p", { class: "muted", text: t("Reads {file} again before each run.", { file: schedule.refresh.file }) }) : null,
    h(
      "div",
      { class: "row actions" },
      schedule.enabled
        ? h(
            "button",
            {
              class: "button",
              attrs: { type: "button" },
              dataset: { testid: "pause-schedule" },
              on: { click: () => act(schedule.id, () => api.setScheduleEnabled(schedule.id, false)) },
            },
            t("Pause"),
          )
        : h(
            "button",
            {
              class: "button primary",
              attrs: { type: "button" },
              dataset: { testid: "resume-schedule" },
              on: { click: () => act(schedule.id, () => api.setScheduleEnabled(schedule.id, true)) },
            },
            t("Resume"),
          ),
      h(
        "button",
        {
          class: "button",
          attrs: { type: "button" },
          dataset: { testid: "edit-schedule" },
          on: {
            click: () => {
              editing = schedule;
              linked = null;
              dropLinked = false;
              update();
              root?.querySelector("#schedule-name")?.focus();
            },
          },
        },
        t("Edit"),
      ),
      h(
        "button",
        { class: "button danger", attrs: { type: "button" }, dataset: { testid: "delete-schedule" }, on: { click: remove } },
        t("Delete"),
      ),
    ),
    problem?.scheduleId === schedule.id
      ? h("p", {
          class: "inline-error",
          attrs: { role: "alert" },
          dataset: { testid: "schedule-card-error", code: problem.code },
          text: problem.message,
        })
      : null,
  );
}

/** The zones an owner picks from: Indonesia's three, this computer's, the accounts'. */
function zoneOptions(current) {
  const zones = [
    ...new Set(["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", here, current, ...accounts.map((a) => a.timeZone)].filter(Boolean)),
  ];
  return zones.map((zone) => {
    const short = zoneName(zone);
    const city = (zone.split("/").pop() ?? zone).replace(/_/g, " ");
    return { zone, label: short === city ? short : `${short} (${city})` };
  });
}

/** A button styled as a link that runs `onClick`. */
function linkButton(label, onClick) {
  return h("button", { class: "button link", attrs: { type: "button" }, on: { click: onClick } }, label);
}

function form() {
  const e = editing;
  const firstAccount = accounts.find((a) => a.kind === "whatsapp") ?? accounts[0];
  const chosenAccount = accounts.find((a) => a.id === e?.blast.accountId) ?? firstAccount;
  const zoneNow = e?.timeZone ?? chosenAccount?.timeZone ?? here;
  const slot = nextSlot(null, zoneNow);
  const rule = e?.rule ?? { repeat: "daily", time: slot.time, date: slot.date, days: [], day: Number(slot.date.slice(8)) };
  const field = (label, input) => h("div", { class: "form-row" }, h("label", { attrs: { for: input.id }, text: label }), input);
  const name = h("input", { attrs: { id: "schedule-name", type: "text", placeholder: t("Monday promo"), value: e?.name ?? "" } });
  const zone = h(
    "select",
    { attrs: { id: "schedule-zone", "aria-label": t("Time zone") }, dataset: { testid: "schedule-zone" } },
    zoneOptions(zoneNow).map((z) =>
      h("option", { attrs: { value: z.zone, selected: z.zone === zoneNow ? "selected" : undefined }, text: z.label }),
    ),
  );
  const account = h(
    "select",
    {
      attrs: { id: "schedule-account" },
      on: {
        change: () => {
          const a = accounts.find((x) => String(x.id) === account.value);
          if (a?.timeZone && !e) zone.value = a.timeZone;
        },
      },
    },
    accounts.map((a) =>
      h("option", {
        attrs: { value: String(a.id), selected: chosenAccount?.id === a.id ? "selected" : undefined },
        text: a.kind === "simulated" ? t("{name} (rehearsal)", { name: a.name }) : a.name,
      }),
    ),
  );
  const template = h("textarea", {
    attrs: {
      id: "schedule-template",
      rows: "4",
      placeholder: t("Hi {name}, our December promo starts today!", { name: `{${t("Name")}}` }),
    },
  });
  template.value = e?.blast.template ?? "";
  const chosen = new Set(e?.blast.audiences ?? []);
  const picks = audiences.length
    ? audienceChoice({ saved: audiences, chosen, legend: t("To"), onToggle: (n, on) => (on ? chosen.add(n) : chosen.delete(n)) })
    : h("p", { class: "muted", text: t("Save an audience on the Audiences screen first.") });
  const rules = ruleFields(rule, { timeZone: zoneNow, zonePicker: zone });
  // Redrawn in place, so choosing a file keeps what was typed in the form.
  let linkedRow;
  const drawLinked = () => {
    const current = linked?.name ?? (!dropLinked && e?.refresh ? e.refresh.file : null);
    const fresh = h(
      "div",
      { class: "row" },
      current
        ? h("span", { dataset: { testid: "linked-file" }, text: t("Read again before each run: {file}", { file: current }) })
        : h("span", { class: "muted", text: t("No spreadsheet is read before each run.") }),
      h(
        "button",
        {
          class: "button",
          attrs: { type: "button" },
          dataset: { testid: "choose-linked" },
          on: {
            click: async () => {
              try {
                const [file] = await api.pickFiles();
                if (file) {
                  linked = file;
                  dropLinked = false;
                  drawLinked();
                }
              } catch (error) {
                formError.textContent = ApiError.from(error).message;
              }
            },
          },
        },
        t("Choose a spreadsheet…"),
      ),
      current
        ? linkButton(t("Remove"), () => {
            linked = null;
            dropLinked = true;
            drawLinked();
          })
        : null,
    );
    linkedRow?.replaceWith(fresh);
    linkedRow = fresh;
  };
  drawLinked();
  const formError = h("p", { class: "inline-error", attrs: { role: "alert" }, dataset: { testid: "schedule-error" } });
  const element = h(
    "form",
    { class: "card stack schedule-form", dataset: { testid: "schedule-form" } },
    h("h2", { text: e ? t("Edit “{name}”", { name: e.name }) : t("Schedule a blast") }),
    field(t("Name"), name),
    field(t("Send from"), account),
    picks,
    linkedRow,
    field(t("Message"), template),
    rules.element,
    h(
      "div",
      { class: "row" },
      h(
        "button",
        { class: "button primary", attrs: { type: "submit" }, dataset: { testid: "save-schedule" } },
        e ? t("Save") : t("Schedule"),
      ),
      e
        ? linkButton(t("Cancel"), () => {
            editing = null;
            linked = null;
            update();
          })
        : null,
    ),
    formError,
  );
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.textContent = "";
    let next;
    try {
      next = rules.read();
    } catch (error) {
      formError.textContent = ApiError.from(error).message;
      return;
    }
    const spec = {
      name: name.value,
      rule: next,
      timeZone: zone.value,
      graceSeconds: e?.graceSeconds ?? 3600,
      blast: {
        accountId: Number(account.value),
        name: name.value,
        template: template.value,
        audiences: [...chosen],
        options: e?.blast.options ?? { missingValue: { policy: "drop" } },
      },
      refresh: null,
    };
    const fileId = linked?.id ?? null;
    try {
      if (e) await api.updateSchedule(e.id, spec, fileId, !dropLinked);
      else {
        await api.addSchedule(spec, fileId);
        notice = await scheduleMade();
        takeNotice();
      }
      editing = null;
      linked = null;
      dropLinked = false;
      await reload();
    } catch (error) {
      // Shown under the button that was pressed, not at the top.
      formError.textContent = ApiError.from(error).message;
    }
  });
  return element;
}

function render() {
  return h(
    "div",
    { class: "stack" },
    screenHeader(t("Schedules"), t("Blasts that run by themselves, in your time zone.")),
    ...present(
      notice ? h("p", { class: "notice notice-ok", attrs: { role: "status" }, dataset: { testid: "login-notice" }, text: notice }) : null,
      problem && problem.scheduleId === undefined ? errorPanel(problem) : null,
      schedules.length === 0
        ? emptyState({
            title: t("Nothing scheduled"),
            body: t(
              "Schedule a blast for a date and time, or to repeat every day, week or month. Blastdesk runs it from the tray, even with its window closed.",
            ),
            points: [
              t("Times are in your own time zone, shown by name"),
              t("A run missed while the computer was off is reported, never sent late in a burst"),
            ],
          })
        : h("div", { class: "stack", dataset: { testid: "schedule-list" } }, schedules.map(card)),
      accounts.length ? form() : h("p", { class: "muted", text: t("Add an account (or send a rehearsal) before scheduling.") }),
    ),
  );
}

function update() {
  if (root?.isConnected) root.replaceChildren(render());
}

export default {
  id: "schedules",
  get title() {
    return t("Schedules");
  },
  async render() {
    problem = null;
    notice = takeNotice();
    try {
      [schedules, accounts, audiences, here] = await Promise.all([
        api.listSchedules(),
        api.listAccounts(),
        api.listAudiences(),
        api.computerTimeZone(),
      ]);
    } catch (error) {
      return errorPanel(ApiError.from(error));
    }
    root = h("div", {});
    root.replaceChildren(render());
    return root;
  },
};
