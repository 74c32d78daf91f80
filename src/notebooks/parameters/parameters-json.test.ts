import { describe, expect, it } from "vitest";
import { PyFloat } from "../values/py-float.js";
import { parseJson } from "../values/json-value.js";
import { parametersJson } from "./parameters-json.js";

describe("parametersJson", () => {
  it("writes PyFloat values with their decimal point, keeps key order and reads back as floats", () => {
    const text = parametersJson({ z: new PyFloat(1), a: 3, list: [new PyFloat(0.5), new PyFloat(1e21), "s"], none: null, skipped: undefined });
    expect(text).toBe('{"z":1.0,"a":3,"list":[0.5,1e+21,"s"],"none":null}');
    expect(parseJson(text)).toEqual({ z: new PyFloat(1), a: 3, list: [new PyFloat(0.5), new PyFloat(1e21), "s"], none: null });
  });
});
