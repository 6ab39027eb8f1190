// @ts-check
/**
 * electron-builder's afterPack hook: flips Electron's fuses in the packaged binary before it is signed.
 * RunAsNode off (ELECTRON_RUN_AS_NODE cannot turn the app into a Node shell), cookies encrypted,
 * NODE_OPTIONS ignored, --inspect refused, the asar checked and the only place code loads from. Builds
 * that Playwright drives (INFERSWARM_E2E_BUILD=1) keep --inspect, which `_electron.launch` needs.
 */
import { FuseV1Options, FuseVersion } from "@electron/fuses";

/** @param {NodeJS.ProcessEnv} env @param {string} platform electron-builder's electronPlatformName */
export function fuseConfigFor(env, platform = process.platform) {
  return {
    version: FuseVersion.V1,
    // Flipping fuses breaks the ad-hoc signature Apple Silicon requires; electron-builder signs again after.
    resetAdHocDarwinSignature: platform === "darwin",
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableCookieEncryption]: true,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: env.INFERSWARM_E2E_BUILD === "1",
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
  };
}

/** @param {{ electronPlatformName: string, packager: { addElectronFuses(context: unknown, fuses: ReturnType<typeof fuseConfigFor>): Promise<number> } }} context */
export default async function afterPack(context) {
  await context.packager.addElectronFuses(context, fuseConfigFor(process.env, context.electronPlatformName));
}
