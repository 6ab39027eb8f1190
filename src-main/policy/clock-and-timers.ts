// Time comes from the common module. The policy polls in the background: its timers never keep a
// process alive on their own.
export { systemClock, backgroundTimers as systemTimers, type Clock, type Timers, type TimerHandle } from "../common/index.js";
