import { useId, useState, type FormEvent } from "react";
import type { ContributionMode, SettingsView } from "../../../src-contract/index.js";
import { CallErrorNotice } from "../../components/call-error-notice.js";
import { MODE_LABELS, MODES } from "../../components/labels.js";
import { DomainPage } from "../../components/load-gate.js";
import { useDomain } from "../../stores/stores-context.js";
import { CopyField } from "./copy-field.js";
import { NumberField } from "./number-field.js";
import { ScheduleEditor } from "./schedule-editor.js";
import { buildSettingsUpdate, toDraft, type SettingsDraft } from "./settings-draft.js";
import { AddressList } from "../../components/address-list.js";

export function SettingsPage({ clipboard }: { clipboard?: Pick<Clipboard, "writeText"> }) {
  return (
    <DomainPage domain="settings" title="Settings" what="settings" loadOnMount>
      {() => <SettingsContent clipboard={clipboard} />}
    </DomainPage>
  );
}

function SettingsContent({ clipboard }: { clipboard?: Pick<Clipboard, "writeText"> }) {
  const settings = useDomain("settings", (s) => s.settings);
  if (!settings) return null;
  return (
    <>
      <PolicyForm settings={settings} />
      <SwarmSection settings={settings} />
      <ApiSection settings={settings} clipboard={clipboard} />
      <section className="card" aria-labelledby="settings-identity">
        <h2 id="settings-identity">Identity</h2>
        <p>
          <strong>{settings.identityStorage.kind === "os-keyring" ? "Kept in the system keyring" : "Kept in a plain file"}</strong>
          {" — "}
          {settings.identityStorage.note}
        </p>
      </section>
    </>
  );
}

function PolicyForm({ settings }: { settings: SettingsView }) {
  const saving = useDomain("settings", (s) => s.saving);
  const saveError = useDomain("settings", (s) => s.saveError);
  const serverErrors = useDomain("settings", (s) => s.fieldErrors);
  const save = useDomain("settings", (s) => s.save);
  const clearSaveError = useDomain("settings", (s) => s.clearSaveError);
  // The draft restarts from the node's answer whenever it changes (after a save or a reload).
  const [base, setBase] = useState(settings);
  const [draft, setDraft] = useState<SettingsDraft>(() => toDraft(settings));
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");
  if (base !== settings) {
    setBase(settings);
    setDraft(toDraft(settings));
  }
  const errors = { ...serverErrors, ...localErrors };
  const modeId = useId();
  const pauseKindId = useId();

  const setLimit = (key: keyof SettingsDraft["limits"]) => (value: string) => setDraft((d) => ({ ...d, limits: { ...d.limits, [key]: value } }));
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const { update, errors: invalid, changed } = buildSettingsUpdate(settings, draft);
    setLocalErrors(invalid);
    if (Object.keys(invalid).length > 0) return setNote("Some fields need a fix before saving.");
    if (!changed) return setNote("Nothing to save: no field has changed.");
    setNote("");
    setNote((await save(update)) ? "Saved." : "");
  };
  const scheduleError = Object.entries(errors).find(([key]) => key.startsWith("schedule"))?.[1];

  return (
    <form className="card" aria-labelledby="settings-policy" onSubmit={(event) => void onSubmit(event)} noValidate>
      <h2 id="settings-policy">When and how hard this machine works</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={modeId}>Mode</label>
          <select id={modeId} value={draft.mode} onChange={(event) => setDraft((d) => ({ ...d, mode: event.target.value as ContributionMode }))}>
            {MODES.map((mode) => (
              <option key={mode} value={mode}>
                {MODE_LABELS[mode]}
              </option>
            ))}
          </select>
        </div>
        <NumberField
          label="Idle time before contributing (seconds)"
          value={draft.idleAfterSeconds}
          onChange={(value) => setDraft((d) => ({ ...d, idleAfterSeconds: value }))}
          error={errors.idleAfterSeconds}
          min={0}
          max={86_400}
          step={1}
          hint={`Used in the "${MODE_LABELS["when-idle"]}" mode.`}
        />
        <div className="field">
          <label htmlFor={pauseKindId}>When pausing</label>
          <select id={pauseKindId} value={draft.pauseKind} onChange={(event) => setDraft((d) => ({ ...d, pauseKind: event.target.value as SettingsDraft["pauseKind"] }))}>
            <option value="soft">Let running jobs finish</option>
            <option value="hard">Stop running jobs at once</option>
          </select>
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={draft.pauseWhenGameRunning} onChange={(event) => setDraft((d) => ({ ...d, pauseWhenGameRunning: event.target.checked }))} />
          Pause while a game is running
        </label>
      </div>

      <fieldset className="fieldset">
        <legend>Limits</legend>
        <div className="form-grid">
          <NumberField label="Maximum GPU temperature (°C)" value={draft.limits.maxTemperatureC} onChange={setLimit("maxTemperatureC")} error={errors["limits.maxTemperatureC"]} min={40} max={110} step={1} />
          <NumberField
            label="Resume margin below the maximum (°C)"
            value={draft.limits.temperatureResumeMarginC}
            onChange={setLimit("temperatureResumeMarginC")}
            error={errors["limits.temperatureResumeMarginC"]}
            min={1}
            max={40}
            step={1}
          />
          <NumberField
            label="Power cap per GPU (W)"
            value={draft.limits.maxPowerW}
            onChange={setLimit("maxPowerW")}
            error={errors["limits.maxPowerW"]}
            min={1}
            max={2000}
            placeholder="None"
            hint="Empty: use the share of the card's own power limit below."
          />
          <NumberField
            label="Share of the card's power limit (%)"
            value={draft.limits.maxPowerFractionOfLimit}
            onChange={setLimit("maxPowerFractionOfLimit")}
            error={errors["limits.maxPowerFractionOfLimit"]}
            min={1}
            max={100}
          />
          <NumberField label="Share of VRAM this node may use (%)" value={draft.limits.vramShare} onChange={setLimit("vramShare")} error={errors["limits.vramShare"]} min={1} max={100} />
          <NumberField label="Jobs at once" value={draft.limits.maxConcurrentJobs} onChange={setLimit("maxConcurrentJobs")} error={errors["limits.maxConcurrentJobs"]} min={1} max={64} step={1} />
        </div>
      </fieldset>

      <ScheduleEditor windows={draft.schedule} onChange={(schedule) => setDraft((d) => ({ ...d, schedule }))} error={scheduleError} />

      {draft.startAtLogin !== null ? (
        <label className="checkbox">
          <input type="checkbox" checked={draft.startAtLogin} onChange={(event) => setDraft((d) => ({ ...d, startAtLogin: event.target.checked }))} />
          Start InferSwarm when I log in
        </label>
      ) : null}
      {errors.startAtLogin ? <p className="field-error">{errors.startAtLogin}</p> : null}

      {saveError ? <CallErrorNotice error={saveError} context="The node refused these settings" /> : null}
      <div className="controls">
        <button type="submit" className="button button--primary" disabled={saving}>
          {saving ? "Saving…" : "Save"}
        </button>
        <button type="button" className="button" disabled={saving} onClick={() => {
            setDraft(toDraft(settings));
            setLocalErrors({});
            clearSaveError();
            setNote("");
          }}>
          Discard changes
        </button>
        <span role="status" className="muted">
          {note}
        </span>
      </div>
    </form>
  );
}

function SwarmSection({ settings }: { settings: SettingsView }) {
  const { swarm } = settings;
  return (
    <section className="card" aria-labelledby="settings-swarm">
      <h2 id="settings-swarm">Swarm</h2>
      <p className="muted">Set when the node starts (config file or flags); shown here read-only.</p>
      <dl className="facts">
        <dt>Private swarm</dt>
        <dd>{swarm.private ? "Yes: only peers holding the same swarm key" : "No: any InferSwarm peer may connect"}</dd>
        <dt>Swarm key file</dt>
        <dd>{swarm.swarmKeyFile ? <code className="break">{swarm.swarmKeyFile}</code> : "None"}</dd>
        <dt>Bootstrap peers</dt>
        <dd>
          {swarm.bootstrap.length === 0 ? (
            "None (local network discovery only)"
          ) : (
            <AddressList addresses={swarm.bootstrap} />
          )}
        </dd>
      </dl>
    </section>
  );
}

function ApiSection({ settings, clipboard }: { settings: SettingsView; clipboard?: Pick<Clipboard, "writeText"> }) {
  return (
    <section className="card" aria-labelledby="settings-api">
      <h2 id="settings-api">OpenAI-compatible API</h2>
      {settings.api === null ? (
        <p className="muted">Not enabled on this node.</p>
      ) : (
        <div className="form-grid">
          <CopyField label="API URL" value={settings.api.url} clipboard={clipboard} />
          <CopyField label="API key" value={settings.api.key} clipboard={clipboard} />
        </div>
      )}
    </section>
  );
}
