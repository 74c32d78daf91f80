import { describe, expect, it } from "vitest";
import { TooManyAttemptsError } from "./errors.js";
import { LoginLimiter } from "./login-limiter.js";

describe("LoginLimiter", () => {
  it("refuses an account after too many failures from any address until the window has passed", () => {
    let now = 0;
    const limiter = new LoginLimiter({ perAccount: 3, perAddress: 100, windowMs: 60_000, now: () => now });
    for (const address of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) limiter.begin("bob", address).failed();
    expect(() => limiter.begin("bob", "10.0.0.4")).toThrow(TooManyAttemptsError);
    expect(() => limiter.begin("alice", "10.0.0.1")).not.toThrow();
    now = 59_000;
    expect(() => limiter.begin("bob", "10.0.0.1")).toThrow(/too many failed sign-ins for bob; try again in 1 s/);
    now = 60_000;
    expect(() => limiter.begin("bob", "10.0.0.1")).not.toThrow();
  });

  it("refuses an address after too many failures for any accounts", () => {
    const limiter = new LoginLimiter({ perAccount: 100, perAddress: 3, now: () => 0 });
    for (const username of ["a", "b", "c"]) limiter.begin(username, "10.0.0.9").failed();
    expect(() => limiter.begin("d", "10.0.0.9")).toThrow(/too many failed sign-ins from 10\.0\.0\.9/);
    expect(() => limiter.begin("d", "10.0.0.8")).not.toThrow();
  });

  it("counts attempts still being checked, so parallel guesses cannot pass the limit", () => {
    const limiter = new LoginLimiter({ perAccount: 3, perAddress: 100, now: () => 0 });
    const pending = [limiter.begin("bob", "a"), limiter.begin("bob", "b"), limiter.begin("bob", "c")];
    expect(() => limiter.begin("bob", "d")).toThrow(TooManyAttemptsError);
    // A refused attempt takes no slot; a successful one gives its slot back.
    pending[0]?.succeeded();
    const next = limiter.begin("bob", "d");
    expect(() => limiter.begin("bob", "e")).toThrow(TooManyAttemptsError);
    next.succeeded();
    next.succeeded();
    expect(() => limiter.begin("bob", "e")).not.toThrow();
  });

  it("refuses limits that are not whole numbers of at least 1", () => {
    expect(() => new LoginLimiter({ perAccount: 0 })).toThrow(/perAccount: expected a whole number ≥ 1/);
  });
});
