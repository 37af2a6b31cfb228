// Bahasa Indonesia for the window's editor texts (see i18n.js and tests/i18n.rs).
export default {
};
