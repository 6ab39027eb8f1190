import { InvalidArgumentError } from "commander";

// Parsers for commander options: a bad value becomes a usage error (exit 2) naming the option.

export const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
  return n;
};

export const port = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`${name} must be a port number (0 to 65535).`);
  return n;
};

export const finiteNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number.`);
  return n;
};

export const fraction = (name: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1.`);
  return n;
};

export const nonNegativeNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number, 0 or more.`);
  return n;
};

/** A day (YYYY-MM-DD, local midnight) or an ISO 8601 time, as epoch ms. */
export const dateOrTime = (name: string) => (value: string) => {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const local = day ? new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])) : undefined;
  // new Date(2026, 1, 31) quietly becomes 3 March: refuse days that do not exist.
  const realDay = local && local.getMonth() === Number(day![2]) - 1 && local.getDate() === Number(day![3]);
  const ms = local ? (realDay ? local.getTime() : Number.NaN) : /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`${name} must be a day (2026-11-30) or an ISO time (2026-11-30T18:00:00Z), got '${value}'.`);
  return ms;
};

export const collect = (value: string, previous: string[]) => [...previous, value];

/** A repeatable multiaddr: checked for its shape here, so a typo is a usage error rather than libp2p's exception. */
export const multiaddrs = (name: string, options: { peerId?: boolean } = {}) => (value: string, previous: string[]) => {
  if (!/^(\/[^/\s]+)+$/.test(value)) throw new InvalidArgumentError(`${name} must be a multiaddr such as /ip4/192.168.1.20/tcp/4001${options.peerId ? "/p2p/12D3Koo…" : ""}, got '${value}'.`);
  if (options.peerId && !/\/p2p\/[^/]+$/.test(value)) throw new InvalidArgumentError(`${name} must end with /p2p/<peer id>: use an address a node prints ("listening on …"), got '${value}'.`);
  return [...previous, value];
};
