/** The part of Electron's `app` that keeps one InferSwarm per user. */
export interface SingleInstanceApp {
  requestSingleInstanceLock(): boolean;
  on(event: "second-instance", listener: () => void): unknown;
  quit(): void;
}

/**
 * Two apps would fight over the identity, the GPU and the tray. The first instance keeps the lock; a
 * second one (the owner clicked the launcher again) quits and the first shows its window instead.
 * Returns false when this process is the second one and is quitting.
 */
export function claimSingleInstance(app: SingleInstanceApp, onSecondInstance: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on("second-instance", onSecondInstance);
  return true;
}
