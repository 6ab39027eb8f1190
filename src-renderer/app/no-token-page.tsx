/** Shown in a browser that has neither the preload's API nor a bridge token. */
export function NoTokenPage({ origin }: { origin: string }) {
  return (
    <main className="main main--alone">
      <h1>Open the dashboard from your node</h1>
      <p>This page needs the access token of the InferSwarm node it controls, and it has none.</p>
      <ol>
        <li>
          On the machine running the node, look at what <code>inferswarm node</code> printed when it started: a line with an address like{" "}
          <code className="break">{origin}/#token=…</code>
        </li>
        <li>Open that whole address, token included. The page keeps the token for this tab and removes it from the address bar.</li>
      </ol>
      <p className="muted">
        The token never leaves your machine: the part after <code>#</code> is not sent to any server. It is stored beside the node's data in <code>dashboard.token</code>.
      </p>
    </main>
  );
}
