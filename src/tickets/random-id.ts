/**
 * Ticket and queue entry ids: 96 random bits, base64url (16 characters).
 *
 * Random bytes are drawn in batches: one `randomFillSync` fills a pool of
 * many ids and each id takes the next 12 bytes, which are never handed out
 * again (the pool is refilled, not rewound). A syscall and a buffer per id
 * was a tenth of the CPU of issuing a ticket; Node's own `randomUUID`
 * caches its entropy the same way.
 */
import { randomFillSync } from "node:crypto";

const ID_BYTES = 12;
/** Ids per refill: one 3 KiB fill per 256 tickets. */
export const IDS_PER_FILL = 256;

/** An id source over `fill`, which must fill its whole argument with cryptographically random bytes. */
export function pooledRandomIds(fill: (pool: Buffer) => void = (pool) => randomFillSync(pool), idsPerFill = IDS_PER_FILL): () => string {
  const pool = Buffer.alloc(ID_BYTES * idsPerFill);
  let next = pool.length;
  return () => {
    if (next + ID_BYTES > pool.length) {
      fill(pool);
      next = 0;
    }
    const id = pool.toString("base64url", next, next + ID_BYTES);
    next += ID_BYTES;
    return id;
  };
}

/** 96 random bits, base64url (16 characters), from the process's pool. */
export const randomId: () => string = pooledRandomIds();
