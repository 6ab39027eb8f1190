import { useId } from "react";

/** An on/off switch (role=switch, aria-checked) with a visible label; Space and Enter toggle it, as any button. */
export function ToggleSwitch({ label, checked, onChange, busy = false, description }: { label: string; checked: boolean; onChange: (next: boolean) => void; busy?: boolean; description?: string }) {
  const labelId = useId();
  const descriptionId = useId();
  return (
    <div className="switch-row">
      <span id={labelId} className="switch-row__label">
        {label}
      </span>
      <button
        type="button"
        role="switch"
        className="switch"
        aria-checked={checked}
        aria-labelledby={labelId}
        aria-describedby={description ? descriptionId : undefined}
        aria-busy={busy || undefined}
        onClick={() => {
          if (!busy) onChange(!checked);
        }}
      >
        <span className="switch__thumb" aria-hidden="true" />
      </button>
      {description ? (
        <span id={descriptionId} className="muted">
          {description}
        </span>
      ) : null}
    </div>
  );
}
