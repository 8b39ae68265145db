/**
 * `npm run gen:crd`: writes deploy/crds/ticketedapp.yaml from the field
 * reader's tables (scripts/crd/ticketed-app-crd.ts). `--check` writes
 * nothing and exits 1 when the file differs from what would be written.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { renderCrdYaml } from "./crd/render.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "deploy/crds/ticketedapp.yaml");
const text = renderCrdYaml(readFileSync(join(root, "docs/config.md"), "utf8"));
if (process.argv.includes("--check")) {
  let current: string | undefined;
  try {
    current = readFileSync(target, "utf8");
  } catch (err) {
    console.error(`gen-crd: cannot read ${target}: ${(err as Error).message}`);
  }
  if (current !== text) {
    console.error("gen-crd: deploy/crds/ticketedapp.yaml is out of date; run npm run gen:crd");
    process.exit(1);
  }
  console.log("gen-crd: deploy/crds/ticketedapp.yaml is up to date");
} else {
  writeFileSync(target, text);
  console.log(`gen-crd: wrote ${target}`);
}
