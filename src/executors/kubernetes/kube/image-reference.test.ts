import { describe, expect, it } from "vitest";
import { imageReferenceProblem } from "./image-reference.js";

describe("image references", () => {
  it.each(["python:3.12-slim", "ghcr.io/team/train:1.4", "localhost:5000/app", "registry.example/a/b/c@sha256:" + "a".repeat(64), "busybox"])("accepts %s", (image) => {
    expect(imageReferenceProblem(image)).toBeUndefined();
  });

  it.each([
    ["team/Trainer:latest", /repository names are lower-case/],
    ["python:3.12 slim", /is not an image reference/],
    ["", /empty/],
    ["ghcr.io/team/train:", /is not an image reference/],
  ])("rejects %j", (image, message) => {
    expect(imageReferenceProblem(image)).toMatch(message);
  });
});
