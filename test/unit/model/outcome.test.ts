// result.json as the runner writes it keeps its value as text; other forms are parsed and checked.
import assert from "node:assert/strict";
import { test } from "node:test";
import { outcomeOf, printedValue, resultForDisplay, resultToPrint } from "../../../src/model/outcome.js";
import { JsonText } from "../../../src/util/json-text.js";

test("the runner's {\"value\": V} keeps V's bytes, uncopied, as text", () => {
  const file = Buffer.from('{"value": {"a": [1.0, "\\u0000"]}}');
  const printable = resultToPrint(outcomeOf("/j", file, null).result);
  assert.ok(printable instanceof JsonText);
  assert.equal(printable.bytes.toString(), '{"a": [1.0, "\\u0000"]}');
  assert.equal(printable.bytes.buffer, file.buffer, "a view of the file's bytes, not a copy");
  assert.deepEqual(printedValue(printable), { a: [1, "\u0000"] });
});

test("another form of result.json is parsed: a pickle's description, or a value among other members", () => {
  const pickle = { pickle: "result.pkl", repr: "{1, 2}", type: "set" };
  assert.deepEqual(resultForDisplay(outcomeOf("/j", JSON.stringify(pickle), null).result), pickle);
  const other = outcomeOf("/j", '{"value": 1, "note": "x"}', null).result;
  assert.equal(resultForDisplay(other), 1);
  assert.deepEqual(resultForDisplay(outcomeOf("/j", '{"value":[1,2]}', null).result), [1, 2]);
});

test("a truncated or foreign result.json is named, the value form included", () => {
  for (const file of ['{"value": [1, 2}', '{"value": ', '{"other": 1}', "", "[1]"]) {
    assert.throws(() => outcomeOf("/j", Buffer.from(file), null), /\/j\/result\.json on the target is not what the runner writes/, file);
  }
});
