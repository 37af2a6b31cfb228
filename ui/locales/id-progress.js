// Bahasa Indonesia for the window's progress texts (see i18n.js and tests/i18n.rs).
export default {
};
