// The receiving end of systemd's notify protocol (sd_notify(3)): a unix *datagram* socket at
// $NOTIFY_SOCKET carrying "KEY=VALUE" lines such as READY=1. Node cannot bind AF_UNIX/SOCK_DGRAM, so a
// tiny python3 helper binds the socket and relays each datagram to the supervisor as one JSON line.
// Services send with the real tools (`systemd-notify --ready` works without systemd as PID 1), so the
// wire protocol is exactly systemd's. Like NotifyAccess=all, any sender is accepted; the sender's pid
// (SCM_CREDENTIALS) is reported for the journal.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const RECEIVER = `
import json, os, select, socket, struct, sys
path = sys.argv[1]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
parent = os.getppid()
print(json.dumps({"listening": path}), flush=True)
while os.getppid() == parent:
    ready, _, _ = select.select([s], [], [], 1.0)
    if not ready:
        continue
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    print(json.dumps({"pid": pid, "data": data.decode("utf-8", "replace")}), flush=True)
`;

export interface NotifyMessage {
  pid: number | null;
  fields: Map<string, string>;
}

export interface NotifyReceiver {
  close(): void;
}

/** Binds the socket; resolves once it is listening so a service can never notify into the void. */
export function startNotifyReceiver(
  socketPath: string,
  onMessage: (m: NotifyMessage) => void,
): Promise<NotifyReceiver> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn("python3", ["-c", RECEIVER, socketPath], { stdio: ["ignore", "pipe", "inherit"] });
    } catch (err) {
      reject(err);
      return;
    }
    let listening = false;
    child.on("error", (err) =>
      reject(new Error(`cannot start the notify socket helper (python3): ${err.message}`)),
    );
    child.on("exit", (code) => {
      if (!listening) reject(new Error(`the notify socket helper exited with status ${code}`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const msg = JSON.parse(line) as { listening?: string; pid?: number | null; data?: string };
      if (msg.listening) {
        listening = true;
        resolve({ close: () => child.kill("SIGKILL") });
        return;
      }
      const fields = new Map<string, string>();
      for (const l of (msg.data ?? "").split("\n")) {
        const eq = l.indexOf("=");
        if (eq > 0) fields.set(l.slice(0, eq), l.slice(eq + 1));
      }
      onMessage({ pid: msg.pid ?? null, fields });
    });
  });
}
