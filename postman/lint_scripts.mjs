// Lints the JavaScript of the Postman collection's test and pre-request scripts with the project's
// ESLint configuration (eslint.config.js, files under postman/scripts/). Exit status 1 on any problem.
import { readFileSync } from "node:fs";
import { ESLint } from "eslint";

const collection = JSON.parse(readFileSync(new URL("./bookstore.postman_collection.json", import.meta.url)));
const scripts = [];

function walk(node, path) {
  const here = node.name ? [...path, node.name] : path;
  for (const event of node.event ?? []) {
    const code = [].concat(event.script?.exec ?? []).join("\n");
    if (code.trim()) scripts.push({ name: `${here.join(" / ")} [${event.listen}]`, code });
  }
  for (const child of node.item ?? []) walk(child, here);
}
walk(collection, []);

const eslint = new ESLint();
let problems = 0;
for (const [index, { name, code }] of scripts.entries()) {
  const [result] = await eslint.lintText(code, { filePath: `postman/scripts/script-${index}.js` });
  for (const message of result.messages) {
    problems += 1;
    console.log(`${name}:${message.line}:${message.column} ${message.message} (${message.ruleId ?? "parse"})`);
  }
}
console.log(`postman scripts: ${scripts.length} linted, ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
