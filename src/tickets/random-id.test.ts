import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IDS_PER_FILL, pooledRandomIds, randomId } from "./random-id.js";

describe("random ids", () => {
  it("are 16 base64url characters and do not repeat", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3 * IDS_PER_FILL + 7; i++) {
      const id = randomId();
      assert.match(id, /^[A-Za-z0-9_-]{16}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 3 * IDS_PER_FILL + 7);
  });

  it("fill the pool once per batch and hand out each byte once, in order", () => {
    let fills = 0;
    // Each fill writes its own number into every byte: an id shows which fill it came from.
    const next = pooledRandomIds((pool) => {
      fills++;
      pool.fill(fills);
    }, 4);
    const ids = Array.from({ length: 9 }, () => next());
    assert.equal(fills, 3);
    const fillOf = (id: string): number => Buffer.from(id, "base64url")[0] ?? -1;
    assert.deepEqual(ids.map(fillOf), [1, 1, 1, 1, 2, 2, 2, 2, 3]);
    assert.ok(ids.every((id) => Buffer.from(id, "base64url").length === 12));
  });
});
