/**
 * One spelling for a PCI address across sources: nvidia-smi says "00000000:01:00.0", sysfs
 * "0000:01:00.0", lspci "01:00.0". Returns "dddd:bb:dd.f" in lower case, or null if unparsable.
 */
export function normalizePciBusId(value: string | null | undefined): string | null {
  if (!value) return null;
  const match = /^(?:([0-9a-f]+):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(value.trim());
  if (!match) return null;
  const [, domain = "0", bus = "", device = "", fn = ""] = match;
  const domain4 = domain.slice(-4).padStart(4, "0");
  return `${domain4}:${bus.padStart(2, "0")}:${device.padStart(2, "0")}.${fn}`.toLowerCase();
}
