// sd_notify from the service: READY=1 to $NOTIFY_SOCKET with the real `systemd-notify` tool (python3
// as a fallback), so the datagram protocol is exactly systemd's. No-op outside a Type=notify unit.
import { execa } from "execa";
import { log } from "./log.ts";

const PY_SEND =
  "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.sendto(sys.argv[2].encode(),sys.argv[1])";

export async function notifyReady(statusText: string): Promise<void> {
  const socket = process.env["NOTIFY_SOCKET"];
  if (!socket) return;
  const viaTool = await execa("systemd-notify", ["--ready", `--status=${statusText}`], { reject: false });
  if (viaTool.exitCode === 0) return;
  const viaPython = await execa("python3", ["-c", PY_SEND, socket, `READY=1\nSTATUS=${statusText}`], {
    reject: false,
  });
  if (viaPython.exitCode !== 0) log.error(`failed to notify systemd: ${viaTool.stderr || viaPython.stderr}`);
}
