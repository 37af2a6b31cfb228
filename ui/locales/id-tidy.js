// Bahasa Indonesia for the window's tidy texts (see i18n.js and tests/i18n.rs).
export default {
};
