import type { ComponentType } from "react";
import { EarningsPage } from "../pages/Earnings/earnings-page.js";
import { JobsPage } from "../pages/Jobs/jobs-page.js";
import { ModelsPage } from "../pages/Models/models-page.js";
import { OverviewPage } from "../pages/Overview/overview-page.js";
import { ReputationPage } from "../pages/Reputation/reputation-page.js";
import { SettingsPage } from "../pages/Settings/settings-page.js";
import { ThermalsPage } from "../pages/Thermals/thermals-page.js";

export const PAGES = [
  { id: "overview", title: "Overview", component: OverviewPage },
  { id: "earnings", title: "Earnings", component: EarningsPage },
  { id: "thermals", title: "Thermals", component: ThermalsPage },
  { id: "reputation", title: "Reputation", component: ReputationPage },
  { id: "jobs", title: "Jobs", component: JobsPage },
  { id: "models", title: "Models", component: ModelsPage },
  { id: "settings", title: "Settings", component: SettingsPage },
] as const satisfies ReadonlyArray<{ id: string; title: string; component: ComponentType }>;

export type PageId = (typeof PAGES)[number]["id"];
