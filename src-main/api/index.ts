// The api module's door: the node's local HTTP servers (the dashboard bridge; the OpenAI-compatible routes arrive with #6).
export { createDashboardServer, loadOrCreateDashboardToken, DASHBOARD_CSP, type DashboardServer, type DashboardServerOptions } from "./dashboard-server.js";
