/**
 * Keeps docs/architecture.md's module map true: each folder of src/ imports
 * only the folders its row allows (its own always) and no package its row
 * forbids, and every folder of src/ has a row. The rules are read from the
 * document itself, so the map and the check cannot drift apart.
 * Imports are read from the source text (static `import … from`,
 * `export … from` and `import(…)`).
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const MAP = join(root, "docs", "architecture.md");

/** What "pure" forbids: packages that do I/O or talk to the network (but see PURE_BINDINGS). */
const IO_PACKAGES = ["@grpc/", "@kubernetes/", "express", "winston", "prom-client", "node:fs", "node:net", "node:http", "node:https", "node:child_process", "node:dgram", "node:dns"];

/** Named imports that are pure functions although their package does I/O: address predicates. */
const PURE_BINDINGS: Readonly<Record<string, readonly string[]>> = { "node:net": ["isIP", "isIPv4", "isIPv6"] };

export interface Rule {
  readonly folder: string;
  readonly planned: boolean;
  /** Folders (or root files) it may import, besides its own; "*" for anything. */
  readonly allowed: readonly string[];
  readonly forbiddenPackages: readonly string[];
}

/** The rows of the "Module map" table. */
export function readModuleMap(markdown: string): Rule[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith("Module map"));
  if (section === undefined) throw new Error("docs/architecture.md has no '## Module map' section");
  const rules: Rule[] = [];
  for (const line of section.split("\n")) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    const folder = /^`([^`]+)`$/.exec(cells[0] ?? "")?.[1];
    if (cells.length !== 4 || folder === undefined) continue;
    const [, owns = "", imports = "", packages = ""] = cells;
    rules.push({
      folder,
      planned: owns.startsWith("(planned)"),
      allowed: imports === "anything" ? ["*"] : [...imports.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ""),
      forbiddenPackages: packages === "pure" ? IO_PACKAGES : packages.startsWith("not ") ? [...packages.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "") : [],
    });
  }
  return rules;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts") && !isTestCode(e.name)) out.push(p);
  }
  return out;
}

/** Tests and the fixtures only tests import (`*.fixture.ts`) may reach test/support. */
function isTestCode(fileName: string): boolean {
  return fileName.endsWith(".test.ts") || fileName.endsWith(".fixture.ts");
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s([^;]*?)from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

interface ImportRef {
  readonly spec: string;
  /** Named bindings (`{ a, b as c }` → a, b); empty for default, namespace and dynamic imports. */
  readonly names: readonly string[];
}

function importRefs(text: string): ImportRef[] {
  return [...text.matchAll(IMPORT)]
    .map((m) => {
      const named = /\{([^}]*)\}/.exec(m[1] ?? "")?.[1] ?? "";
      const names = named.split(",").map((n) => n.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0] ?? "").filter((n) => n !== "");
      const onlyNamed = m[1] !== undefined && /^\s*(?:type\s+)?\{[^}]*\}\s*$/.test(m[1]);
      return { spec: m[2] ?? m[3] ?? "", names: onlyNamed ? names : [] };
    })
    .filter((r) => r.spec !== "");
}

export function importsOf(text: string): string[] {
  return importRefs(text).map((r) => r.spec);
}

function isPureUse(ref: ImportRef): boolean {
  const allowed = PURE_BINDINGS[ref.spec];
  return allowed !== undefined && ref.names.length > 0 && ref.names.every((n) => allowed.includes(n));
}

/** The src-relative path an import resolves to ("tickets/ledger.js"), or undefined for packages. */
function srcTarget(file: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  return relative(src, resolve(dirname(file), spec)).split("\\").join("/");
}

function inFolder(path: string, folder: string): boolean {
  const p = path.replace(/\.js$/, ".ts");
  return p === folder || p.startsWith(folder + "/");
}

/** The most specific rule for a src-relative file path. */
function ruleFor(rules: readonly Rule[], path: string): Rule | undefined {
  return rules.filter((r) => inFolder(path, r.folder)).sort((a, b) => b.folder.length - a.folder.length)[0];
}

/** Every problem with one file's imports under its rule. */
function problemsOf(file: string, rule: Rule): string[] {
  const self = relative(src, file).split("\\").join("/");
  const problems: string[] = [];
  for (const ref of importRefs(readFileSync(file, "utf8"))) {
    const target = srcTarget(file, ref.spec);
    if (target !== undefined) {
      if (target.startsWith("..")) problems.push(`${self} reaches outside src: ${ref.spec}`);
      else if (!rule.allowed.includes("*") && !inFolder(target, rule.folder) && !rule.allowed.some((f) => inFolder(target, f))) problems.push(`${self} imports ${ref.spec} (src/${rule.folder} may import ${rule.allowed.join(", ") || "nothing else"})`);
    } else {
      const hit = rule.forbiddenPackages.find((p) => ref.spec === p || ref.spec.startsWith(p));
      if (hit !== undefined && !isPureUse(ref)) problems.push(`${self} imports package ${ref.spec} (src/${rule.folder} must not use ${hit})`);
    }
  }
  return problems;
}

describe("architecture: docs/architecture.md's module map", () => {
  const rules = readModuleMap(readFileSync(MAP, "utf8"));
  const files = sourceFiles(src);

  it("reads a rule for every folder of src/, and the files it checks", () => {
    assert.ok(rules.length >= 10, `rules read: ${rules.map((r) => r.folder).join(", ")}`);
    assert.ok(files.length > 50);
    const entries = readdirSync(src, { withFileTypes: true }).map((e) => e.name);
    const unmapped = entries.filter((name) => !rules.some((r) => r.folder === name));
    assert.deepEqual(unmapped, [], "every folder and root file of src/ has a row in the module map");
    for (const r of rules) if (!r.planned) assert.ok(entries.includes(r.folder.split("/")[0] ?? ""), `src/${r.folder} is in the map but not in the tree (mark it planned?)`);
    for (const r of rules) for (const a of r.allowed) assert.ok(a === "*" || rules.some((x) => x.folder === a), `src/${r.folder} may import ${a}, which has no row`);
  });

  for (const rule of rules) {
    it(`src/${rule.folder} imports only what its row allows`, () => {
      const mine = files.filter((f) => ruleFor(rules, relative(src, f).split("\\").join("/")) === rule);
      assert.deepEqual(mine.flatMap((f) => problemsOf(f, rule)), []);
    });
  }

  it("never lets src/ production code import test support code or test fixtures", () => {
    const bad = files.filter((f) => importsOf(readFileSync(f, "utf8")).some((s) => s.includes("test/support") || s.endsWith(".fixture.js")));
    assert.deepEqual(bad, []);
  });

  it("allows only the pure named bindings of an I/O package", () => {
    const [pure, impure, whole] = importRefs(`import { isIP, isIPv6 } from "node:net";\nimport { isIP, connect } from "node:net";\nimport * as net from "node:net";`);
    assert.ok(pure !== undefined && impure !== undefined && whole !== undefined);
    assert.equal(isPureUse(pure), true);
    assert.equal(isPureUse(impure), false);
    assert.equal(isPureUse(whole), false);
  });

  it("reads imports of every form", () => {
    assert.deepEqual(importsOf(`import a from "x";\nimport type { B } from './y.js';\nexport { c } from "../z.js";\nconst d = await import("w");`), ["x", "./y.js", "../z.js", "w"]);
  });

  it("reads the table's columns as rules (the check can fail)", () => {
    const [r] = readModuleMap("## Module map\n\n| folder | owns | may import | packages |\n| --- | --- | --- | --- |\n| `tickets` | the domain | `common`, `config` | pure |\n");
    assert.deepEqual(r, { folder: "tickets", planned: false, allowed: ["common", "config"], forbiddenPackages: IO_PACKAGES });
    const file = join(src, "tickets", "ticket-core.ts");
    assert.deepEqual(problemsOf(file, { folder: "tickets", planned: false, allowed: [], forbiddenPackages: [] }).length > 0, true, "a rule allowing nothing flags real imports");
  });
});
