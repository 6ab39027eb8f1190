// Time comes from the common module; re-exported so the hardware files keep one local import.
export { systemClock, systemTimers, type Clock, type Timers } from "../common/index.js";
