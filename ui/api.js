// The only module that talks to Tauri. Screens import `api` and nothing else
// of the backend; every failure arrives as an ApiError with a stable `code`.

const tauri = window.__TAURI__;

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ApiError";
    this.code = code;
  }

  /** Normalises whatever a command rejected with into an ApiError. */
  static from(raw) {
    if (raw instanceof ApiError) return raw;
    if (raw && typeof raw === "object" && typeof raw.code === "string") {
      return new ApiError(raw.code, String(raw.message ?? raw.code));
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
  /** Listens to a backend event; resolves to a function that stops listening. */
  on: (event, handler) => {
    if (!tauri?.event) return Promise.resolve(() => {});
    return tauri.event.listen(event, (e) => handler(e.payload));
  },
};
