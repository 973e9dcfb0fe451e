/** Epoch milliseconds as the API and the event log show times. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
