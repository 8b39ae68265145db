/**
 * CPU profiles for the benches: `profileThisProcess` records one of this
 * process (the inspector's Profiler, so a bench can profile only the part
 * it measures), and the summary says where a profile (.cpuprofile, from it
 * or from `node --cpu-prof`) spent its time: self time summed by function
 * or file, largest first, optionally per call of the code measured.
 *
 *   tsx bench/lib/cpu-profile.ts FILE.cpuprofile [--calls N] [--top 40] [--by file]
 *     [--minus FLOOR.cpuprofile --minus-calls M]   # per call beyond the floor's
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

/** The parts of a .cpuprofile this summary reads. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  /** `function (file:line)`, or the file alone when summed by file. */
  readonly where: string;
  readonly us: number;
}

/** Self time per function (or per file with `byFile`), largest first; idle and GC kept apart under their V8 names. */
export function selfTimes(profile: CpuProfile, byFile = false): SelfTime[] {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)?.callFrame;
    if (frame === undefined) return;
    const file = shortFile(frame.url);
    const where = byFile ? file || frame.functionName : `${frame.functionName || "(anonymous)"} ${file}:${String(frame.lineNumber + 1)}`;
    totals.set(where, (totals.get(where) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return [...totals].map(([where, us]) => ({ where, us })).sort((a, b) => b.us - a.us);
}

/**
 * Starts profiling this process (sampling every `intervalUs`); the function
 * returned stops and writes the profile to `file`.
 */
export async function profileThisProcess(intervalUs = 200): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: intervalUs });
  await session.post("Profiler.start");
  return async (file) => {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
  };
}

/** The path from the repository or node_modules down, for reading. */
function shortFile(url: string): string {
  const m = /(node_modules\/.*|(?:src|bench|test)\/.*)$/.exec(url);
  return m?.[1] ?? url.replace(/^file:\/\//, "");
}

/** Not the code measured: time asleep, and the profiler's own calls. */
function isOverhead(where: string): boolean {
  return where.startsWith("(idle)") || where.includes("node:inspector") || where.startsWith("(program)");
}

/**
 * Per call, where `a` spends more (or less) than `b`: self time per call of
 * each function in `a` minus that in `b`, largest difference first.
 */
export function perCallDifference(a: readonly SelfTime[], aCalls: number, b: readonly SelfTime[], bCalls: number): SelfTime[] {
  const diff = new Map<string, number>();
  for (const t of a) if (!isOverhead(t.where)) diff.set(t.where, t.us / aCalls);
  for (const t of b) if (!isOverhead(t.where)) diff.set(t.where, (diff.get(t.where) ?? 0) - t.us / bCalls);
  return [...diff].map(([where, us]) => ({ where, us })).sort((x, y) => Math.abs(y.us) - Math.abs(x.us));
}

function main(argv: readonly string[]): void {
  const file = argv[0];
  if (file === undefined) throw new Error("usage: cpu-profile.ts FILE.cpuprofile [--calls N] [--top N] [--by file] [--minus FLOOR.cpuprofile --minus-calls M]");
  const option = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const calls = Number(option("--calls") ?? 0);
  const top = Number(option("--top") ?? 40);
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const times = selfTimes(profile, option("--by") === "file");
  const minus = option("--minus");
  if (minus !== undefined && calls > 0) {
    // Our server against the floor: what the calls cost beyond the floor's, per call (sleep and the profiler left out).
    const minusCalls = Number(option("--minus-calls") ?? calls);
    const base = selfTimes(JSON.parse(readFileSync(minus, "utf8")) as CpuProfile, option("--by") === "file");
    const diff = perCallDifference(times, calls, base, minusCalls);
    console.log(`beyond ${minus}: ${diff.reduce((sum, t) => sum + t.us, 0).toFixed(2)} us per call`);
    for (const t of diff.slice(0, top)) console.log(`${t.us.toFixed(3).padStart(9)} us/call ${t.where}`);
    return;
  }
  const total = times.reduce((s, t) => s + t.us, 0);
  console.log(`total ${(total / 1000).toFixed(1)} ms${calls > 0 ? `, ${(total / calls).toFixed(2)} us per call over ${String(calls)} calls` : ""}`);
  for (const t of times.slice(0, top)) {
    const perCall = calls > 0 ? `${(t.us / calls).toFixed(3).padStart(8)} us/call ` : "";
    console.log(`${(t.us / 1000).toFixed(1).padStart(9)} ms ${((100 * t.us) / total).toFixed(1).padStart(5)} % ${perCall}${t.where}`);
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) main(process.argv.slice(2));
