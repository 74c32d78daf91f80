import { describe, expect, it } from "vitest";
import { TooManyAttemptsError } from "./errors.js";
import { LoginLimiter } from "./login-limiter.js";

describe("LoginLimiter", () => {
  it("refuses a username and address after too many failures until the window has passed", () => {
    let now = 0;
    const limiter = new LoginLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      limiter.check("bob", "10.0.0.1");
      limiter.failed("bob", "10.0.0.1");
    }
    expect(() => limiter.check("bob", "10.0.0.1")).toThrow(TooManyAttemptsError);
    expect(() => limiter.check("bob", "10.0.0.2")).not.toThrow();
    expect(() => limiter.check("alice", "10.0.0.1")).not.toThrow();
    now = 59_000;
    expect(() => limiter.check("bob", "10.0.0.1")).toThrow(/try again in 1 s/);
    now = 60_000;
    expect(() => limiter.check("bob", "10.0.0.1")).not.toThrow();
  });

  it("forgets failures after a successful sign-in", () => {
    const limiter = new LoginLimiter({ maxFailures: 2 });
    limiter.failed("bob", "a");
    limiter.succeeded("bob", "a");
    limiter.failed("bob", "a");
    expect(() => limiter.check("bob", "a")).not.toThrow();
  });
});
