import assert from "node:assert/strict";

/**
 * The error `p` rejects with, asserted to be a `type`; the test fails if
 * `p` resolves. (assert.rejects checks the error but does not hand it back
 * for the assertions that follow.)
 */
export async function rejectionOf<E>(p: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type, String(err));
    return err;
  }
  assert.fail("expected a rejection");
}
