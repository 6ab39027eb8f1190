import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { selectDashboardApi } from "./api/select-dashboard-api.js";
import { App } from "./app/app.js";
import { NoTokenPage } from "./app/no-token-page.js";
import { createConnectionStore } from "./stores/connection-store.js";
import { createDashboardStores } from "./stores/dashboard-stores.js";
import { StoresProvider } from "./stores/stores-context.js";
import "./styles.css";

const connection = createConnectionStore();
const selection = selectDashboardApi({
  exposed: (window as unknown as { inferswarm?: unknown }).inferswarm,
  location: window.location,
  history: window.history,
  storage: window.sessionStorage,
  // Unbound, window.fetch throws "Illegal invocation".
  fetch: (input, init) => window.fetch(input, init),
  WebSocket: window.WebSocket,
  onConnectionChange: (state) => connection.getState().set(state),
});

const root = createRoot(document.getElementById("root")!);
if (selection.kind === "no-token") {
  root.render(
    <StrictMode>
      <NoTokenPage origin={window.location.origin} />
    </StrictMode>,
  );
} else {
  const stores = createDashboardStores(selection.api, { connection });
  stores.start();
  root.render(
    <StrictMode>
      <StoresProvider stores={stores}>
        <App />
      </StoresProvider>
    </StrictMode>,
  );
}
