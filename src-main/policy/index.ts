/** The policy module's door: when this machine may work for the swarm, and how much. */
export {
  contributionModeSchema,
  defaultPolicyConfig,
  parsePolicyConfig,
  pauseKindSchema,
  policyConfigSchema,
  policyLimitsSchema,
  scheduleWindowSchema,
  type ContributionMode,
  type PauseKind,
  type PolicyConfig,
  type PolicyConfigInput,
  type PolicyLimits,
  type ScheduleWindow,
} from "./policy-config.js";
export {
  contributionDecisionSchema,
  contributionReasonCodeSchema,
  decideContribution,
  initialPolicyState,
  publicReasonFor,
  type ContributionDecision,
  type ContributionInputs,
  type ContributionReasonCode,
  type ContributionResult,
  type OtherGpuUser,
  type PolicyState,
} from "./contribution-policy.js";
export type { HysteresisState, PolicyGpuReading, PolicyTelemetrySample } from "./gpu-limits.js";
export { localTimeAtOffset, systemLocalTime, type LocalTime, type LocalTimeAccessor } from "./schedule-windows.js";
export {
  createHeadlessIdleSource,
  type CommandRunner,
  type HeadlessIdleSourceOptions,
  type IdleListener,
  type IdleReading,
  type IdleSource,
} from "./idle-source.js";
export {
  createPolicyController,
  type AdmissionTarget,
  type DecisionListener,
  type GameState,
  type PolicyController,
  type PolicyControllerOptions,
} from "./policy-controller.js";
