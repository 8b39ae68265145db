import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withNonce } from "../cache/wire.js";
import { ResponseNonces, serializeResponse } from "./response-encoding.js";

describe("ResponseNonces", () => {
  it("gives every stream that sends the same body the same nonce and the same encoded message, made once", () => {
    const nonces = new ResponseNonces();
    const body = Buffer.from([10, 1, 118]);
    const a = nonces.response(body, 0);
    const b = nonces.response(body, 0);
    assert.equal(a.response.nonce, b.response.nonce);
    assert.ok(a.response.message);
    assert.equal(a.response.message, b.response.message, "one buffer for every stream");
    assert.deepEqual(serializeResponse(b.response), withNonce(body, b.response.nonce));
  });

  it("gives a stream that was already sent that nonce (or a later one) a fresh, larger one, so a stream's nonces of a type never repeat", () => {
    const nonces = new ResponseNonces();
    const first = Buffer.from("first");
    const second = Buffer.from("second");
    const f = nonces.response(first, 0);
    const s = nonces.response(second, f.seq);
    assert.ok(s.seq > f.seq);
    // The first body again to a stream whose latest nonce is the second's: not the shared nonce, which it has had.
    const again = nonces.response(first, s.seq);
    assert.ok(again.seq > s.seq);
    assert.notEqual(again.response.nonce, f.response.nonce);
    assert.equal(again.response.message, undefined, "encoded for that stream when written");
    assert.deepEqual(serializeResponse(again.response), withNonce(first, again.response.nonce));
    // Another stream that has not had it still shares it.
    assert.equal(nonces.response(first, 0).response.nonce, f.response.nonce);
  });

  it("nonces are decimal numbers of one increasing sequence", () => {
    const nonces = new ResponseNonces();
    const seqs = ["a", "b", "c"].map((t) => nonces.response(Buffer.from(t), 0));
    assert.deepEqual(seqs.map((x) => x.response.nonce), ["1", "2", "3"]);
  });
});
