// Bahasa Indonesia for the window's linking texts (see i18n.js and tests/i18n.rs).
export default {
};
