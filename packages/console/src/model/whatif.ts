// GET /v1/whatif (a later coordinator adds it; the page hides the panel while it answers 404):
// for each server, what losing it now would mean.
export interface WhatIfView {
  servers: Array<{ node: string; ifLost: { quorumKept: boolean; toleranceLeft: number } }>;
  warnings: string[];
}

/** "quorum kept; 1 more server may be lost" / "quorum LOST: etcd stops accepting writes". */
export function whatIfVerdict(ifLost: WhatIfView["servers"][number]["ifLost"]): string {
  if (!ifLost.quorumKept) return "quorum lost: etcd would stop accepting writes";
  if (ifLost.toleranceLeft === 0) return "quorum kept; no further server may be lost";
  const more = ifLost.toleranceLeft === 1 ? "1 more server" : `${ifLost.toleranceLeft} more servers`;
  return `quorum kept; ${more} may be lost`;
}
