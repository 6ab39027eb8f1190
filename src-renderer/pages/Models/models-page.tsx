import { formatBytes, formatNumber, shortHash } from "../../components/format.js";
import { DomainPage } from "../../components/load-gate.js";
import { useDomain } from "../../stores/stores-context.js";
import { DownloadItem } from "./download-item.js";
import { FetchModelForm } from "./fetch-model-form.js";

export function ModelsPage() {
  return (
    <DomainPage domain="models" title="Models" what="models" loadOnMount>
      {() => <ModelsContent />}
    </DomainPage>
  );
}

function ModelsContent() {
  const models = useDomain("models", (s) => s.models);
  if (!models) return null;
  return (
    <>
      <section className="card" aria-labelledby="models-installed">
        <h2 id="models-installed">Installed</h2>
        {models.installed.length === 0 ? (
          <p className="muted">No models installed.</p>
        ) : (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Quantization</th>
                  <th scope="col" className="num">Size</th>
                  <th scope="col" className="num">Parameters</th>
                  <th scope="col" className="num">Context</th>
                  <th scope="col">Serving</th>
                  <th scope="col">Fit on this machine</th>
                </tr>
              </thead>
              <tbody>
                {models.installed.map((model) => (
                  <tr key={model.sha256}>
                    <th scope="row">
                      {model.name}
                      <br />
                      <code className="muted" title={model.sha256}>
                        {shortHash(model.sha256)}
                      </code>
                    </th>
                    <td>{model.quantization}</td>
                    <td className="num">{formatBytes(model.fileBytes)}</td>
                    <td className="num">{model.parameters === null ? "—" : `${formatNumber(model.parameters / 1e9, 2)} B`}</td>
                    <td className="num">{formatNumber(model.contextSize)}</td>
                    <td>{model.serving ? "Yes" : "No"}</td>
                    <td>
                      {model.fit.onGpu ? `GPU, ${model.fit.gpuLayers} layers` : "CPU"}
                      <br />
                      <span className="muted">{model.fit.note}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="models-downloads">
        <h2 id="models-downloads">Downloads</h2>
        <FetchModelForm />
        {models.downloads.length === 0 ? (
          <p className="muted">No downloads in progress.</p>
        ) : (
          <ul className="plain-list downloads">
            {models.downloads.map((download) => (
              <DownloadItem key={download.root} download={download} />
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
