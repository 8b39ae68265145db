import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppSpec } from "../config/app-spec.js";
import { AppMatcher, normaliseHost } from "./app-matcher.js";

function spec(name: string, pathPrefix: string, host?: string): AppSpec {
  return { name, namespace: "ns", pathPrefix, ...(host === undefined ? {} : { host }) } as unknown as AppSpec;
}

describe("AppMatcher", () => {
  const m = new AppMatcher([spec("root", "/"), spec("shiny", "/shiny/"), spec("deep", "/shiny/deep/"), spec("hosted", "/", "Apps.Example.com")]);

  const table: readonly [string, string, string | undefined][] = [
    ["x.org", "/shiny/page", "shiny"],
    ["x.org", "/shiny/deep/ws", "deep"],
    ["x.org", "/shiny", "shiny"],
    ["x.org", "/shiny?x=1", "shiny"],
    ["x.org", "/shinyx", "root"],
    ["x.org", "/", "root"],
    ["apps.example.com", "/shiny/page", "hosted"],
    ["APPS.example.com:8443", "/anything", "hosted"],
    ["x.org", "/shiny/deep?q=/shiny/deep/", "deep"],
  ];
  for (const [host, path, want] of table) {
    it(`${host}${path} → ${String(want)}`, () => assert.equal(m.match(host, path)?.name, want));
  }

  it("matches nothing without a covering prefix", () => {
    const only = new AppMatcher([spec("a", "/a/")]);
    assert.equal(only.match("h", "/b/"), undefined);
    assert.equal(only.match("h", "/?/a/"), undefined);
    assert.equal(new AppMatcher([]).match("h", "/"), undefined);
  });

  it("normalises hosts", () => {
    assert.equal(normaliseHost("Example.COM:80"), "example.com");
    assert.equal(normaliseHost("[::1]:8080"), "[::1]");
    assert.equal(normaliseHost("[::1]"), "[::1]");
    assert.equal(normaliseHost("plain"), "plain");
  });
});
