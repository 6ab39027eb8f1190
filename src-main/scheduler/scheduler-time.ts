// Time and chance come from the common module. Scheduler timers are not unref'd: each belongs to a
// job somebody is waiting for.
export { systemClock, systemTimers, systemRandom, type Clock, type Timers, type RandomSource } from "../common/index.js";
