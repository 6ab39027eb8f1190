import type { ReactNode } from "react";

/** An honest statement about what this node cannot show yet (instead of zeros that look like data). */
export function Notice({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="notice" role="note">
      <p className="notice__title">{title}</p>
      {children}
    </div>
  );
}
