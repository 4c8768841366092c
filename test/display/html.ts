/** Display HTML read back by Python's HTML and XML parsers (html_oracle.py), an independent reader. */
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import { ROOT } from "../helpers/models";

export interface HtmlReading {
  tags: Record<string, number>;
  attrs: string[];
  text: string;
  svgs: { counts: Record<string, number>; titles: string[]; rectFills: string[] }[];
}

export function readHtml(html: unknown): HtmlReading {
  assert.equal(typeof html, "string");
  const r = spawnSync("/usr/bin/python3", [path.join(ROOT, "test/display/html_oracle.py")], {
    input: html as string,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as HtmlReading;
}

/** Nothing a model supplied became markup: no element or attribute of the attack, its text intact. */
export function assertInert(reading: HtmlReading, text: string): void {
  assert.equal(reading.tags.img, undefined);
  assert.equal(reading.tags.script, undefined);
  assert.ok(!reading.attrs.includes("onerror"));
  assert.ok(reading.text.includes(text), "the name is shown as text");
}
