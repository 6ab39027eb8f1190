import { useId, useState } from "react";

/** A read-only value with a copy button (the clipboard may refuse: the text stays selectable). */
export function CopyField({ label, value, clipboard }: { label: string; value: string; clipboard?: Pick<Clipboard, "writeText"> }) {
  const id = useId();
  const [result, setResult] = useState<string>("");
  const copy = async () => {
    try {
      const target = clipboard ?? navigator.clipboard;
      if (!target) throw new Error("no clipboard");
      await target.writeText(value);
      setResult(`${label} copied.`);
    } catch {
      setResult("Copying was refused: select the text and copy it by hand.");
    }
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-field">
        <input id={id} type="text" readOnly value={value} onFocus={(event) => event.target.select()} />
        <button type="button" className="button" onClick={() => void copy()} aria-label={`Copy ${label}`}>
          Copy
        </button>
      </div>
      <span role="status" className="muted">
        {result}
      </span>
    </div>
  );
}
