import type { FuseV1Config } from "@electron/fuses";

export function fuseConfigFor(env: NodeJS.ProcessEnv, platform?: string): FuseV1Config;
export default function afterPack(context: {
  electronPlatformName: string;
  packager: { addElectronFuses(context: unknown, fuses: FuseV1Config): Promise<number> };
}): Promise<void>;
