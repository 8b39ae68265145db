/**
 * Keeps DESIGN.md's module map true: each folder of src/ imports only what
 * its row allows. Imports are read from the source text (static `import …
 * from`, `export … from` and `import(…)`), resolved to a src/ folder or a
 * package name.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

/** Packages that do I/O or talk to the network; the pure domain may use none of them (but see PURE_BINDINGS). */
const IO_PACKAGES = ["@grpc/", "@kubernetes/", "express", "winston", "prom-client", "node:fs", "node:net", "node:http", "node:https", "node:child_process", "node:dgram", "node:dns"];

/** Named imports that are pure functions although their package does I/O: address predicates. */
const PURE_BINDINGS: Readonly<Record<string, readonly string[]>> = { "node:net": ["isIP", "isIPv4", "isIPv6"] };

interface Rule {
  readonly folder: string;
  readonly forbiddenFolders: readonly string[];
  readonly forbiddenPackages: readonly string[];
}

const RULES: readonly Rule[] = [
  { folder: "common", forbiddenFolders: ["*"], forbiddenPackages: [] },
  { folder: "tickets", forbiddenFolders: ["authz", "xds", "kube", "reconcile", "resolver", "scaler", "admin", "local", "standalone", "app.ts", "cli.ts"], forbiddenPackages: IO_PACKAGES },
  { folder: "config", forbiddenFolders: ["kube", "authz", "xds", "reconcile", "admin", "standalone", "app.ts", "cli.ts"], forbiddenPackages: ["@grpc/", "@kubernetes/"] },
  { folder: "authz", forbiddenFolders: ["kube", "xds", "reconcile", "standalone", "app.ts", "cli.ts"], forbiddenPackages: ["@kubernetes/"] },
  { folder: "xds", forbiddenFolders: ["kube", "authz", "reconcile", "standalone", "app.ts", "cli.ts"], forbiddenPackages: ["@kubernetes/"] },
  { folder: "xds/cache", forbiddenFolders: ["xds/server"], forbiddenPackages: [] },
  { folder: "xds/resources", forbiddenFolders: ["xds/server", "xds/cache"], forbiddenPackages: IO_PACKAGES },
  { folder: "routing", forbiddenFolders: ["authz", "xds", "tickets", "kube", "reconcile", "resolver", "scaler", "admin", "local", "standalone", "app.ts", "cli.ts"], forbiddenPackages: IO_PACKAGES },
  { folder: "kube", forbiddenFolders: ["tickets", "app.ts", "cli.ts"], forbiddenPackages: [] },
  { folder: "reconcile", forbiddenFolders: ["app.ts", "cli.ts"], forbiddenPackages: ["@grpc/"] },
  { folder: "resolver", forbiddenFolders: ["xds", "app.ts", "cli.ts"], forbiddenPackages: [] },
  { folder: "scaler", forbiddenFolders: ["xds", "app.ts", "cli.ts"], forbiddenPackages: [] },
  { folder: "admin", forbiddenFolders: ["app.ts", "cli.ts"], forbiddenPackages: [] },
  { folder: "local", forbiddenFolders: ["kube", "app.ts", "cli.ts"], forbiddenPackages: [] },
  { folder: "standalone", forbiddenFolders: ["kube", "app.ts", "cli.ts"], forbiddenPackages: [] },
];

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
  return path === folder || path.startsWith(folder + "/");
}

describe("architecture", () => {
  const files = sourceFiles(src);

  it("finds the source files it checks", () => {
    assert.ok(files.some((f) => f.includes(`${join("src", "common")}`)));
  });

  for (const rule of RULES) {
    it(`src/${rule.folder} imports only what DESIGN.md allows`, () => {
      const problems: string[] = [];
      for (const file of files) {
        const self = relative(src, file).split("\\").join("/");
        if (!inFolder(self, rule.folder)) continue;
        for (const ref of importRefs(readFileSync(file, "utf8"))) {
          const spec = ref.spec;
          const target = srcTarget(file, spec);
          if (target !== undefined) {
            if (target.startsWith("..")) problems.push(`${self} reaches outside src: ${spec}`);
            const hit = rule.forbiddenFolders.find((f) => (f === "*" ? !inFolder(target, rule.folder) : inFolder(target.replace(/\.js$/, ".ts"), f)));
            if (hit !== undefined) problems.push(`${self} imports ${spec} (src/${rule.folder} must not import ${hit})`);
          } else {
            const hit = rule.forbiddenPackages.find((p) => spec === p || spec.startsWith(p));
            if (hit !== undefined && !isPureUse(ref)) problems.push(`${self} imports package ${spec} (src/${rule.folder} must not import ${hit})`);
          }
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  it("lets Check (authz) and the route builder (xds) share src/routing, their one set of routing rules", () => {
    for (const folder of ["authz", "xds", "xds/resources"]) {
      const rule = RULES.find((r) => r.folder === folder);
      assert.ok(rule !== undefined, folder);
      assert.ok(!rule.forbiddenFolders.some((f) => f === "*" || inFolder("routing", f)), `src/${folder} must be allowed to import src/routing`);
    }
  });

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
});
