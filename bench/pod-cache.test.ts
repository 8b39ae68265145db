import assert from "node:assert/strict";
import { it } from "node:test";
import { measurePodCache } from "./lib/pod-cache-memory.js";

it("a stripped cached pod costs at most 4 KiB of heap, and less than an unstripped one", async () => {
  const f = await measurePodCache(2_000);
  assert.ok(f.strippedBytesPerPod <= 4096, `${f.strippedBytesPerPod.toFixed(0)} bytes per stripped pod`);
  assert.ok(f.strippedBytesPerPod < f.unstrippedBytesPerPod / 2, `stripped ${f.strippedBytesPerPod.toFixed(0)} vs unstripped ${f.unstrippedBytesPerPod.toFixed(0)} bytes per pod`);
});
