/**
 * Memory per cached pod and the time of a full relist (issue 14, Performance).
 * `npm run bench:pod-cache` (POD_CACHE_BENCH_PODS, default 10000).
 * Goal: ≤ 4 KiB per stripped pod; an unstripped cache holds far more.
 */
import { measurePodCache } from "./lib/pod-cache-memory.js";

const pods = Number(process.env["POD_CACHE_BENCH_PODS"] ?? 10_000);
const f = await measurePodCache(pods);
const kib = (b: number): string => (b / 1024).toFixed(2);
console.log(`pods cached:                    ${f.pods}`);
console.log(`stripped cache, per pod:        ${kib(f.strippedBytesPerPod)} KiB (goal ≤ 4 KiB)`);
console.log(`unstripped cache, per pod:      ${kib(f.unstrippedBytesPerPod)} KiB (client-node's typed objects)`);
console.log(`ratio unstripped / stripped:    ${(f.unstrippedBytesPerPod / f.strippedBytesPerPod).toFixed(1)}×`);
console.log(`full list of ${f.pods} pods (pages of 500, stripped): ${f.listMs.toFixed(0)} ms`);
