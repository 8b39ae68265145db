import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PassThrough } from "node:stream";
import { createLogger, silentLogger } from "./logger.js";

function captured(level: "info" | "debug"): { logger: ReturnType<typeof createLogger>; lines: () => string[] } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { logger: createLogger({ format: "json", level, stream }), lines: () => text.split("\n").filter((l) => l.length > 0) };
}

describe("createLogger", () => {
  it("writes lines at and above its level, drops those below, and says which levels are on", () => {
    const { logger, lines } = captured("info");
    logger.debug("below", { a: 1 });
    logger.info("at", { a: 2 });
    logger.child({ part: "x" }).warn("above");
    logger.child({ part: "x" }).debug("below too");
    assert.deepEqual(
      lines().map((l) => (JSON.parse(l) as { message: string }).message),
      ["at", "above"],
    );
    assert.deepEqual([logger.isLevelEnabled?.("debug"), logger.isLevelEnabled?.("info"), logger.child({}).isLevelEnabled?.("error")], [false, true, true]);
  });

  it("at debug, debug lines are written and reported on", () => {
    const { logger, lines } = captured("debug");
    logger.debug("shown", { a: 1 });
    assert.equal(lines().length, 1);
    assert.equal(logger.isLevelEnabled?.("debug"), true);
  });

  it("the silent logger reports every level off", () => {
    assert.equal(silentLogger.isLevelEnabled?.("error"), false);
  });
});
