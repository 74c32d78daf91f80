/** Injected time: the Clock interface, the system clock and a fake clock for tests. */
export type { Clock, ClockTimer } from "./clock.js";
export { systemClock } from "./clock.js";
export { FakeClock } from "./fake-clock.js";
