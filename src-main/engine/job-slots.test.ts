import { describe, expect, it } from "vitest";
import { isInferSwarmError } from "../common/index.js";
import { JobSlots } from "./job-slots.js";

describe("JobSlots", () => {
  it("runs up to maxActive at once and hands slots to the queue in FIFO order", async () => {
    const slots = new JobSlots(2, 2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    const order: string[] = [];
    const c = slots.acquire().then((release) => (order.push("c"), release));
    const d = slots.acquire().then((release) => (order.push("d"), release));
    expect(slots.stats()).toEqual({ active: 2, queued: 2, maxActive: 2, maxQueued: 2, accepting: true });
    a();
    (await c)();
    b();
    (await d)();
    expect(order).toEqual(["c", "d"]);
    expect(slots.stats().active).toBe(0);
  });

  it("refuses work beyond the queue bound with ENGINE_BUSY", async () => {
    const slots = new JobSlots(1, 1);
    await slots.acquire();
    void slots.acquire();
    await expect(slots.acquire()).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_BUSY"));
  });

  it("removes an aborted waiter from the queue", async () => {
    const slots = new JobSlots(1, 4);
    const release = await slots.acquire();
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_ABORTED"));
    expect(slots.stats().queued).toBe(0);
    release();
    expect(slots.stats().active).toBe(0);
  });

  it("ignores a second release of the same slot", async () => {
    const slots = new JobSlots(1, 0);
    const release = await slots.acquire();
    release();
    release();
    expect(slots.stats().active).toBe(0);
    await slots.acquire();
    expect(slots.stats().active).toBe(1);
  });

  it("fails queued waiters on close", async () => {
    const slots = new JobSlots(1, 1);
    await slots.acquire();
    const waiting = slots.acquire();
    slots.close();
    await expect(waiting).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_CLOSED"));
    await expect(slots.acquire()).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_CLOSED"));
  });

  it("pausing refuses new jobs and fails queued ones, while running jobs go on", async () => {
    const slots = new JobSlots(1, 2);
    const running = await slots.acquire();
    const queued = slots.acquire();
    slots.setAdmission({ accepting: false, maxActive: 1, reason: "a game is running" });
    await expect(queued).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_PAUSED") && /a game is running/.test((e as Error).message));
    await expect(slots.acquire()).rejects.toSatisfy((e) => isInferSwarmError(e, "ENGINE_PAUSED"));
    expect(slots.stats()).toMatchObject({ active: 1, queued: 0, accepting: false });
    running();
    slots.setAdmission({ accepting: true, maxActive: 1 });
    (await slots.acquire())();
  });

  it("a lowered limit takes effect as running jobs finish; a raised one admits waiters at once", async () => {
    const slots = new JobSlots(3, 4);
    const a = await slots.acquire();
    const b = await slots.acquire();
    slots.setAdmission({ accepting: true, maxActive: 1 });
    let granted = 0;
    const waiting = slots.acquire().then((release) => (granted++, release));
    a();
    await Promise.resolve();
    expect(granted).toBe(0); // still 1 running, limit 1
    b();
    const c = await waiting;
    expect(slots.stats()).toMatchObject({ active: 1, maxActive: 1 });
    const d = slots.acquire();
    const e = slots.acquire();
    slots.setAdmission({ accepting: true, maxActive: 3 });
    await Promise.all([d, e]);
    expect(slots.stats()).toMatchObject({ active: 3, queued: 0 });
    c();
  });

  it("clamps the limit to the capacity", () => {
    const slots = new JobSlots(2, 0);
    slots.setAdmission({ accepting: true, maxActive: 9 });
    expect(slots.stats().maxActive).toBe(2);
  });
});
