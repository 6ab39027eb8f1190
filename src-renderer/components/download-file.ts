export interface DownloadEnvironment {
  document: Pick<Document, "createElement" | "body">;
  URL: Pick<typeof URL, "createObjectURL" | "revokeObjectURL">;
}

/** Saves text as a file through a Blob and an object URL (works under the CSP: no data: navigation). */
export function downloadTextFile(fileName: string, text: string, type = "text/csv;charset=utf-8", env: DownloadEnvironment = { document, URL }): void {
  const url = env.URL.createObjectURL(new Blob([text], { type }));
  const link = env.document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.rel = "noopener";
  link.style.display = "none";
  env.document.body.append(link);
  try {
    link.click();
  } finally {
    link.remove();
    // The click has started the download; the URL is no longer needed.
    setTimeout(() => env.URL.revokeObjectURL(url), 0);
  }
}
