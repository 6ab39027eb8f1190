import { render, type RenderResult } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactElement } from "react";
import { createDashboardStores, type DashboardStores } from "../stores/dashboard-stores.js";
import { StoresProvider } from "../stores/stores-context.js";
import { createFakeDashboardApi, type FakeDashboardApi } from "./fake-dashboard-api.js";

/** Renders `ui` with the real stores fed by a fake node, started as the app starts them. */
export function renderWithStores(ui: ReactElement, options: { api?: FakeDashboardApi } = {}): RenderResult & { api: FakeDashboardApi; stores: DashboardStores; user: ReturnType<typeof userEvent.setup> } {
  const api = options.api ?? createFakeDashboardApi();
  const stores = createDashboardStores(api);
  stores.start();
  const user = userEvent.setup();
  const result = render(<StoresProvider stores={stores}>{ui}</StoresProvider>);
  return { ...result, api, stores, user };
}
