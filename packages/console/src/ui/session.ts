// The admin token lives only in this tab's sessionStorage: gone when the tab closes, never in a
// cookie (so no request carries it unless the page adds it), never in localStorage.
const KEY = "muster.adminToken";

export const session = {
  load(): string | null {
    try {
      return sessionStorage.getItem(KEY);
    } catch {
      return null;
    }
  },
  save(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  clear(): void {
    try {
      sessionStorage.removeItem(KEY);
    } catch {}
  },
};
