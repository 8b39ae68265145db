import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ERROR_CODES, TicketplaneError, toTicketplaneError } from "./errors.js";

describe("errors", () => {
  it("documents every code in docs/errors.md", () => {
    const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
    for (const code of Object.values(ERROR_CODES)) assert.match(doc, new RegExp("`" + code + "`"), `${code} missing from docs/errors.md`);
  });

  it("keeps the cause and context, and serialises both", () => {
    const cause = new Error("ECONNREFUSED");
    const err = new TicketplaneError(ERROR_CODES.UNAVAILABLE, "xds peer unreachable", { address: "127.0.0.1:1" }, { cause });
    assert.equal(err.cause, cause);
    assert.deepEqual(err.toJSON(), { code: "TP_UNAVAILABLE", message: "xds peer unreachable", address: "127.0.0.1:1" });
  });

  it("wraps foreign errors once and passes ours through", () => {
    const wrapped = toTicketplaneError(new Error("boom"), ERROR_CODES.IO, { file: "x" });
    assert.equal(wrapped.code, "TP_IO");
    assert.equal(toTicketplaneError(wrapped), wrapped);
    assert.equal(toTicketplaneError("text").message, "text");
  });
});
