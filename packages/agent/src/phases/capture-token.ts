import { parseRke2Token } from "@muster/shared";
import { RKE2_TOKEN_FILE } from "../rke2-paths.ts";
import { type Phase, PhaseError } from "./types.ts";

// capture-token (init server only): read the token RKE2 generated and hand it to the coordinator,
// which needs it for every later join. The file must be private; the token is never logged.
export const captureTokenPhase: Phase = {
  name: "capture-token",
  onReapply: true,
  skipIf: async (ctx) => (ctx.plan.captureToken ? null : "this node does not capture the cluster token"),
  async run(ctx) {
    const { files } = ctx.host;
    const stat = await files.stat(RKE2_TOKEN_FILE);
    if (!stat)
      throw new PhaseError(`${RKE2_TOKEN_FILE} does not exist; RKE2 has not initialised the cluster`);
    if ((stat.mode & 0o077) !== 0)
      throw new PhaseError(
        `${RKE2_TOKEN_FILE} is readable by group or others (mode ${stat.mode.toString(8)}); refusing to use it. Fix: chmod 600 ${RKE2_TOKEN_FILE}`,
      );
    const raw = (await files.readText(RKE2_TOKEN_FILE)).trim();
    let user: string | null;
    try {
      user = parseRke2Token(raw).user;
    } catch (err) {
      throw new PhaseError(`${RKE2_TOKEN_FILE} does not hold a valid RKE2 token: ${(err as Error).message}`);
    }
    if (user === "node")
      throw new PhaseError(`${RKE2_TOKEN_FILE} holds an agent token, not the server token`);
    ctx.send({ type: "token.captured", checksum: ctx.plan.checksum, token: raw });
    return "cluster token captured and sent to the coordinator";
  },
};
