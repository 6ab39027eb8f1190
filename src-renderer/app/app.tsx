import { useEffect, useRef, useState } from "react";
import { TRAY_LABELS } from "../components/labels.js";
import { useDomain } from "../stores/stores-context.js";
import { PAGES, type PageId } from "./pages.js";

const CONNECTION_LABELS = {
  idle: "Not connected",
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  unauthorized: "Token refused: open the URL the node printed",
} as const;

/** The shell: a left navigation and the current page; moving to a page puts focus on its heading. */
export function App({ initialPage = "overview" }: { initialPage?: PageId }) {
  const [pageId, setPageId] = useState<PageId>(initialPage);
  // Counts the owner's navigations: each one (even to the page already open) moves focus to the heading.
  const [navigations, setNavigations] = useState(0);
  const main = useRef<HTMLElement>(null);
  const page = PAGES.find((p) => p.id === pageId) ?? PAGES[0];
  const Page = page.component;

  useEffect(() => {
    document.title = `${page.title} · InferSwarm`;
  }, [page]);
  useEffect(() => {
    const heading = navigations > 0 ? main.current?.querySelector<HTMLElement>("h1") : null;
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }, [navigations]);

  return (
    <div className="layout">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <p className="brand">InferSwarm</p>
        <StatusSummary />
        <nav aria-label="Dashboard">
          <ul className="nav-list">
            {PAGES.map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  className="nav-button"
                  aria-current={p.id === pageId ? "page" : undefined}
                  onClick={() => {
                    setPageId(p.id);
                    setNavigations((n) => n + 1);
                  }}
                >
                  {p.title}
                </button>
              </li>
            ))}
          </ul>
        </nav>
      </aside>
      <main id="main" ref={main} className="main" tabIndex={-1}>
        <Page />
      </main>
    </div>
  );
}

function StatusSummary() {
  const tray = useDomain("status", (s) => s.status?.tray ?? null);
  const connection = useDomain("connection", (s) => s.state);
  return (
    <div className="summary" aria-live="polite">
      {tray ? <p className={`tray-badge tray-state--${tray}`}>{TRAY_LABELS[tray]}</p> : null}
      <p className={`connection connection--${connection}`}>Events: {CONNECTION_LABELS[connection]}</p>
    </div>
  );
}
