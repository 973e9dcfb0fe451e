import {
  type EnrolFrame,
  generateCredential,
  type HelloFrame,
  hashSecret,
  InvalidField,
  isIPv4,
  isRfc1123Hostname,
  NodeCredentialInvalid,
  NodeCredentialWrongMachine,
  NodePendingApproval,
  RoleConflict,
  secretMatchesHash,
} from "@muster/shared";
import type { Store } from "../../store/store.ts";
import type { JoinTokens } from "../secrets/join-tokens.ts";
import type { Transitions } from "./transitions/index.ts";

// Enrolment (docs/architecture.md, invariant 6): a join token admits a machine once per contact
// (the node it becomes, or is again, is the enrol transition's: transitions/enrol.ts). Each node then
// authenticates with its own credential, stored only as a hash.

export interface EnrolmentDeps {
  store: Pick<Store, "tx"> & {
    nodes: Pick<Store["nodes"], "get" | "byMachineId" | "update">;
    claims: Pick<Store["claims"], "get">;
  };
  joinTokens: Pick<JoinTokens, "verify">;
  transitions: Pick<Transitions, "enrol" | "takeOver">;
}

const DUMMY_HASH = hashSecret("muster-no-such-node");

function nodeNameOf(frame: EnrolFrame): string {
  const name = frame.nodeName ?? frame.facts.hostname;
  const from = frame.nodeName !== undefined ? "" : ` (from the hostname; pass --node-name to choose another)`;
  if (name.length > 63 || !isRfc1123Hostname(name))
    throw new InvalidField(
      "nodeName",
      `"${name}" is not a lowercase RFC 1123 name of at most 63 characters${from}`,
    );
  return name;
}

function addressOf(frame: EnrolFrame, remoteAddress: string): string {
  const address = frame.address ?? (frame.facts.address || remoteAddress.replace(/^::ffff:/, ""));
  if (!isIPv4(address))
    throw new InvalidField("address", `"${address}" is not an IPv4 address (pass --address)`);
  return address;
}

export function createEnrolment(deps: EnrolmentDeps) {
  const { store, joinTokens, transitions } = deps;

  function enrol(
    frame: EnrolFrame,
    remoteAddress: string,
    durability: "full" | "grouped" = "full",
  ): { node: string; credential: string; pendingApproval?: string } {
    const grant = joinTokens.verify(frame.joinToken);
    const credential = generateCredential();
    const { node, pendingApproval } = transitions.enrol({
      name: nodeNameOf(frame),
      machineId: frame.facts.machineId,
      role: grant.role,
      address: addressOf(frame, remoteAddress),
      facts: frame.facts,
      credentialHash: hashSecret(credential),
      joinTokenId: grant.id,
      replace: grant.replace,
      remote: remoteAddress.replace(/^::ffff:/, ""),
      durability,
    });
    return pendingApproval === undefined ? { node, credential } : { node, credential, pendingApproval };
  }

  /**
   * What the bootstrap asks before it changes anything on the machine: the token's grant, refused
   * (CONFLICT) when the machine, known by its machine id, is enrolled under the other role, which
   * enrol() would refuse too, but only after the agent was installed.
   */
  function verify(token: string, machineId?: string): Omit<ReturnType<JoinTokens["verify"]>, "replace"> {
    const grant = joinTokens.verify(token);
    const known = machineId === undefined ? null : store.nodes.byMachineId(machineId);
    if (known && known.role !== grant.role) throw new RoleConflict(known, grant.role);
    return { id: grant.id, role: grant.role, expiresAt: grant.expiresAt };
  }

  function authenticate(frame: HelloFrame): { node: string } {
    const node = store.nodes.get(frame.node);
    // Compare even for an unknown node so timing does not reveal which names exist.
    const matches = secretMatchesHash(frame.credential, node?.credentialHash ?? DUMMY_HASH);
    if (node && !matches) return authenticateClaim(node.name, frame);
    if (!node || !matches) throw new NodeCredentialInvalid();
    if (node.machineId !== frame.facts.machineId) throw new NodeCredentialWrongMachine(node.name);
    // Relaxed (store/db.ts): the agent sends its facts again on every hello.
    store.tx(() => store.nodes.update(node.name, { facts: frame.facts }), "relaxed");
    return { node: node.name };
  }

  /** A credential that is not the node's may be its claim's (transitions/approval.ts). */
  function authenticateClaim(name: string, frame: HelloFrame): { node: string } {
    const claim = store.claims.get(name);
    const matches = secretMatchesHash(frame.credential, claim?.credentialHash ?? DUMMY_HASH);
    if (!claim || !matches) throw new NodeCredentialInvalid();
    if (claim.machineId !== frame.facts.machineId) throw new NodeCredentialWrongMachine(name);
    if (claim.approvedAt === null) throw new NodePendingApproval(name);
    transitions.takeOver(name, frame.facts);
    return { node: name };
  }

  return { enrol, authenticate, verify };
}
