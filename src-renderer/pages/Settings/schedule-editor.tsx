import { useId, useState } from "react";
import { DAY_NAMES, describeWindow, type ScheduleWindow } from "./settings-draft.js";

/** The weekly windows of the "On a schedule" mode: listed with a remove button each, plus a small form to add one. */
export function ScheduleEditor({ windows, onChange, error }: { windows: ScheduleWindow[]; onChange: (next: ScheduleWindow[]) => void; error?: string }) {
  const [days, setDays] = useState<number[]>([1, 2, 3, 4, 5]);
  const [start, setStart] = useState("22:00");
  const [end, setEnd] = useState("07:00");
  const [problem, setProblem] = useState<string | null>(null);
  const startId = useId();
  const endId = useId();
  const problemId = useId();

  const add = () => {
    if (days.length === 0) return setProblem("Pick at least one day.");
    if (!/^\d{2}:\d{2}$/.test(start) || !/^\d{2}:\d{2}$/.test(end)) return setProblem("Enter start and end as HH:MM.");
    if (start === end) return setProblem("Start and end are the same; use 00:00 to 23:59 for a whole day.");
    setProblem(null);
    onChange([...windows, { days: [...days].sort((a, b) => a - b), start, end }]);
  };

  return (
    <fieldset className="fieldset">
      <legend>Schedule (used in the "On a schedule" mode)</legend>
      {windows.length === 0 ? (
        <p className="muted">No windows: in the schedule mode this node would never contribute.</p>
      ) : (
        <ul className="plain-list schedule-list">
          {windows.map((window, index) => (
            <li key={`${describeWindow(window)}-${index}`}>
              <span>{describeWindow(window)}</span>
              <button type="button" className="button button--small" aria-label={`Remove window ${describeWindow(window)}`} onClick={() => onChange(windows.filter((_, i) => i !== index))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <fieldset className="fieldset fieldset--nested">
        <legend>Add a window</legend>
        <div className="day-picker">
          {DAY_NAMES.map((name, day) => (
            <label key={name} className="checkbox">
              <input type="checkbox" checked={days.includes(day)} onChange={(event) => setDays(event.target.checked ? [...days, day] : days.filter((d) => d !== day))} />
              {name}
            </label>
          ))}
        </div>
        <div className="controls">
          <div className="field field--inline">
            <label htmlFor={startId}>Start</label>
            <input id={startId} type="time" value={start} onChange={(event) => setStart(event.target.value)} />
          </div>
          <div className="field field--inline">
            <label htmlFor={endId}>End</label>
            <input id={endId} type="time" value={end} onChange={(event) => setEnd(event.target.value)} aria-describedby={problem ? problemId : undefined} />
          </div>
          <button type="button" className="button" onClick={add}>
            Add window
          </button>
        </div>
        {problem ? (
          <p id={problemId} className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
        <p className="muted">An end at or before the start runs past midnight into the next day.</p>
      </fieldset>
    </fieldset>
  );
}
