// Copy to the clipboard: the Clipboard API where the browser allows it, else select the text (and
// try the old execCommand) so Ctrl+C / Cmd+C copies it.
export async function copyText(text: string, element: HTMLElement): Promise<"copied" | "selected"> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return "copied";
    }
  } catch {}
  const selection = window.getSelection();
  const range = document.createRange();
  range.selectNodeContents(element);
  selection?.removeAllRanges();
  selection?.addRange(range);
  try {
    if (document.execCommand("copy")) return "copied";
  } catch {}
  return "selected";
}
