// New blast, an editor in three steps on one page (new-blast/*.js):
// recipients, the message beside the phone preview of what each customer
// receives, and sending (number, pacing, now or on a schedule), with a
// sticky bar that says what its button will do. What the person wrote is the
// draft, kept in the database as it is written; what the screen derives is
// its view state, read again when it is shown (new-blast/state.js).

import { t } from "../i18n.js";
import { api, ApiError } from "../api.js";
import { errorPanel, h, screenHeader } from "../view.js";
import { draft, hasRecipients, hooks, loadRecipients, restore, view } from "./new-blast/state.js";
import { recipientsStep } from "./new-blast/recipients.js";
import { messagePreview, messageStep } from "./new-blast/message.js";
import { actionBar, sendingStep } from "./new-blast/sending.js";

export { addFiles, prepareRehearsal } from "./new-blast/state.js";

let root = null;
let saved = [];

function render() {
  return h(
    "div",
    { class: `stack new-blast${draft.accountId === null ? " is-rehearsal" : ""}` },
    screenHeader(t("New blast"), t("Send one personalised message to many customers.")),
    recipientsStep(saved),
    view.preview ? messageStep() : null,
    view.preview ? sendingStep() : null,
    actionBar(),
  );
}

function update() {
  if (!root?.isConnected) return;
  const focused = document.activeElement?.id;
  root.replaceChildren(render());
  if (focused) root.querySelector(`#${CSS.escape(focused)}`)?.focus();
}

function updatePreview() {
  root?.querySelector(".preview-slot")?.replaceChildren(messagePreview());
}

hooks.update = update;
hooks.updatePreview = updatePreview;

export default {
  id: "new-blast",
  get title() {
    return t("New blast");
  },
  async render({ prefs, info }) {
    view.run = info?.runId ?? null;
    if (!view.restored) restore(prefs?.draft);
    let accounts;
    try {
      [saved, accounts] = await Promise.all([api.listAudiences(), api.listAccounts()]);
    } catch (error) {
      return errorPanel(ApiError.from(error));
    }
    view.accounts = accounts;
    // A new blast goes from a connected number when there is one; a
    // rehearsal is chosen on purpose (or by the welcome's rehearsal).
    if (!draft.accountChosen && draft.accountId === null) {
      const connected = accounts.find((a) => a.kind === "whatsapp" && a.status.status === "connected");
      if (connected) draft.accountId = connected.id;
    }
    for (const name of [...draft.audiences]) {
      if (!saved.some((a) => a.name === name)) draft.audiences.delete(name);
    }
    root = h("div", {});
    root.replaceChildren(render());
    // Always read the recipients again: another screen may have previewed
    // other lists since, and what is sent must be what this screen shows.
    if (hasRecipients()) queueMicrotask(loadRecipients);
    return root;
  },
};
