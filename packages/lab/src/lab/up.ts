// `lab up`: a persistent world with the real coordinator and agents on simulated RKE2, every node
// enrolled with the real curl-bash line (docs/reference.md#lab).
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { buildKubeVipImage, writeSystemctlWrapper } from "@muster/rke2-sim";
import { type ClusterView, type NodeView, spkiPinFromCert } from "@muster/shared";
import { stringify } from "yaml";
import { S3_NAME, s3BackupSpec, startS3Unit } from "../cluster/s3.ts";
import {
  MIRROR_PORT,
  prepareMirror,
  type SimDurations,
  worldSpec,
  writeSimDefaults,
} from "../cluster/setup.ts";
import { which } from "../world/host.ts";
import { addressing } from "../world/layout.ts";
import { REPO_ROOT } from "../world/mounts.ts";
import { canRunWorld, up } from "../world/world.ts";
import { destroyLab } from "./down.ts";
import { enrol, settleTimeoutMs, waitSettled } from "./enrol.ts";
import { LB_NAME, startHaproxy } from "./haproxy.ts";
import { contractJson, type LabSummary } from "./report.ts";
import { COORDINATOR_PORT, STATE_DIR, startCoordinator, startHostForwarder, startUnit } from "./services.ts";
import {
  LAB_ROOT,
  LabInputError,
  type LabMachine,
  type LabRecord,
  labFile,
  type RegistrationMode,
  record,
  writeRecord,
} from "./state.ts";
import { waitFor } from "./wait.ts";

export interface UpRequest {
  servers: number;
  agents: number;
  registration: RegistrationMode;
  durations: SimDurations;
  /** An S3-protocol server in its own machine (`s3`), set as spec.backup.s3 (docs/reference.md#lab). */
  s3?: boolean;
}

/** The lb machine's host number in the lab's /24 (below the nodes' .10 onward). */
const LB_HOST = 5;
/** The s3 machine's host number. */
const S3_HOST = 6;

/** Refuses to start when this host cannot run a lab, before anything is made. */
export function assertCanRunLab(registration?: RegistrationMode): void {
  const can = canRunWorld();
  if (!can.ok) throw new LabInputError(`cannot run a lab here: ${can.reason}`);
  if (registration === "lb" && !which("haproxy"))
    throw new LabInputError("--registration lb needs haproxy (apt-get install haproxy)");
}

export async function labUp(req: UpRequest, say: (line: string) => void): Promise<LabSummary> {
  assertCanRunLab(req.registration);
  const names = [
    ...Array.from({ length: req.servers }, (_, i) => ({ name: `server-${i + 1}`, role: "server" as const })),
    ...Array.from({ length: req.agents }, (_, i) => ({ name: `agent-${i + 1}`, role: "agent" as const })),
  ];
  const withLb = req.registration === "lb";
  // One wrapper per checkout (it holds absolute paths to this repo's Node and systemctl.ts).
  const tag = createHash("sha256").update(REPO_ROOT).digest("hex").slice(0, 8);
  const systemctl = await writeSystemctlWrapper(path.join(LAB_ROOT, "bin", `systemctl-${tag}`));
  say(`lab: building ${req.servers} servers + ${req.agents} agents (registration: ${req.registration}) …`);
  const world = await up({
    nodes: [
      ...names.map((n) => ({ name: n.name })),
      ...(withLb ? [{ name: LB_NAME, host: LB_HOST }] : []),
      ...(req.s3 ? [{ name: S3_NAME, host: S3_HOST }] : []),
    ],
    systemctl,
    persistent: true,
    record,
  });
  const id = world.id;
  try {
    const a = addressing(world.subnetIndex);
    const machines: LabMachine[] = world.nodes.map((n, i) => ({
      name: n.name,
      role:
        n.name === LB_NAME
          ? "lb"
          : n.name === S3_NAME
            ? "s3"
            : n.name.startsWith("server")
              ? "server"
              : "agent",
      address: n.ip,
      port: i + 1,
    }));
    const servers = machines.filter((m) => m.role === "server");
    const registrationAddress =
      req.registration === "lb"
        ? world.node(LB_NAME).ip
        : req.registration === "vip"
          ? world.vip
          : servers[0]!.address;
    const c = world.coordinator;
    say(`lab ${id}: ${a.subnet}; mirror, coordinator${withLb ? ", haproxy" : ""} …`);
    await prepareMirror(c);
    const s3 = req.s3 ? await startS3Unit(world.node(S3_NAME), startUnit) : null;
    if (s3) say(`lab ${id}: S3 server http://${s3.endpoint} (bucket ${s3.bucket}, folder ${s3.folder})`);
    const spec = worldSpec(`lab-${id}`, `http://${c.ip}:${MIRROR_PORT}`, {
      ...registrationSpec(req.registration, registrationAddress),
      ...(s3 ? { backup: s3BackupSpec(s3) } : {}),
    });
    fs.mkdirSync(c.path("/etc/muster"), { recursive: true });
    fs.writeFileSync(c.path("/etc/muster/cluster.yaml"), stringify(spec), { mode: 0o600 });
    for (const n of world.nodes)
      if (n.name !== LB_NAME && n.name !== S3_NAME) await writeSimDefaults(n, req.durations);
    if (withLb) await startHaproxy(world.node(LB_NAME), servers);
    // kube-vip's image for the air-gapped world: the coordinator serves <state-dir>/images/ and the
    // servers' plans name the tarball (docs/architecture.md#the-registration-address-kube-vip).
    if (req.registration === "vip") await buildKubeVipImage(c.path(`${STATE_DIR}/images`));
    const api = await startCoordinator(c);
    const tokenFile = labFile(id, "admin-token");
    const caFile = labFile(id, "ca.crt");
    record(id, { kind: "file", path: tokenFile });
    fs.copyFileSync(c.path(`${STATE_DIR}/admin-token`), tokenFile);
    fs.chmodSync(tokenFile, 0o600);
    record(id, { kind: "file", path: caFile });
    fs.copyFileSync(c.path(`${STATE_DIR}/tls/ca.crt`), caFile);
    const port = await startHostForwarder(id, c);
    const lab: LabRecord = {
      id,
      subnetIndex: world.subnetIndex,
      createdAt: new Date().toISOString(),
      state: "building",
      registration: { mode: req.registration, address: registrationAddress },
      coordinator: {
        url: `https://127.0.0.1:${port}`,
        ip: c.ip,
        pin: spkiPinFromCert(fs.readFileSync(c.path(`${STATE_DIR}/tls/server.crt`))),
        adminTokenFile: tokenFile,
        caFile,
      },
      machines,
      durations: req.durations,
      systemctl,
    };
    record(id, { kind: "file", path: labFile(id, "lab.json") });
    writeRecord(lab);
    say(`lab ${id}: coordinator https://${c.ip}:${COORDINATOR_PORT} (on the host: ${lab.coordinator.url})`);
    say(`lab ${id}: pasting the join command on every node …`);
    const enrolments = names.map((n) => ({ node: world.node(n.name), role: n.role }));
    // server-1 first, so it is the init server (the coordinator picks the first server to enrol);
    // then every other node at once.
    const failed = await enrol(id, api, enrolments.slice(0, 1), say);
    await waitFor(
      "server-1 to enrol",
      async () => {
        const list = (await api.get<{ nodes: NodeView[] }>("/v1/nodes")).nodes;
        return list.some((n) => n.name === "server-1") || failed.length > 0 ? true : undefined;
      },
      60_000,
    );
    failed.push(...(await enrol(id, api, enrolments.slice(1), say)));
    const nodes = await waitSettled(
      api,
      names.map((n) => n.name),
      settleTimeoutMs(req.durations, req.servers),
      say,
    ).catch((err: Error) => {
      say(`  ${err.message}`);
      return [];
    });
    const joined = nodes.length === names.length && nodes.every((n) => n.state === "joined");
    // The coordinator's word on the registration address (it is the init server's IP in `node` mode).
    const view = await api.get<ClusterView>("/v1/cluster");
    if (view.registrationAddress) lab.registration.address = view.registrationAddress;
    lab.state = joined && failed.length === 0 ? "ready" : "failed";
    writeRecord(lab);
    return { lab, ok: lab.state === "ready", json: contractJson(lab) };
  } catch (err) {
    // Nothing worth keeping exists before enrolment finished: leave no half-built lab behind.
    say(`lab ${id}: up failed, removing it: ${(err as Error).message}`);
    destroyLab(id);
    throw err;
  }
}

function registrationSpec(mode: RegistrationMode, address: string): Record<string, unknown> {
  if (mode === "node") return {};
  if (mode === "vip") return { registrationAddress: address, vip: { address, interface: "eth0" } };
  return { registrationAddress: address };
}
