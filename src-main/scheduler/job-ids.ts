import { randomBytes } from "node:crypto";

/**
 * The id of a job this node requests. Every requester path (the API gateway, hidden challenges) uses this one
 * format, so a worker cannot tell a challenge from an ordinary request by its id.
 */
export function newJobId(): string {
  return `job-${randomBytes(12).toString("base64url")}`;
}
