// ESLint for the project's JavaScript: the pages' scripts (browser, ES modules or plain scripts)
// and the test scripts of the Postman collection (linted from the collection by
// postman/lint_scripts.mjs under the virtual path postman/scripts/).
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  js.configs.recommended,
  {
    files: ["app/web/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
  {
    files: ["postman/scripts/**/*.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: { pm: "readonly", console: "readonly", postman: "readonly" },
    },
    rules: {
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": "error",
      "no-unused-vars": "error",
    },
  },
  {
    files: ["eslint.config.js", "postman/*.mjs"],
    languageOptions: { globals: { ...globals.node } },
  },
];
