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
  NodeNameTaken,
  RoleConflict,
  secretMatchesHash,
} from "@muster/shared";
import type { Ctx } from "../context.ts";
import type { JoinTokens } from "../secrets/join-tokens.ts";

// Enrolment (docs/architecture.md, invariant 6): a join token admits a machine once per contact; the machine id maps a
// re-enrolling machine back to its node, so a reinstalled agent keeps its name, role and state.
// Each node then authenticates with its own credential, stored only as a hash.

const DUMMY_HASH = hashSecret("muster-no-such-node");
const PRE_RELEASE = new Set(["enrolled", "checking", "waiting", "check-failed"]);

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

export function createEnrolment(ctx: Ctx, joinTokens: JoinTokens) {
  const { store, logger } = ctx;

  function enrol(frame: EnrolFrame, remoteAddress: string): { node: string; credential: string } {
    const grant = joinTokens.verify(frame.joinToken);
    const name = nodeNameOf(frame);
    const address = addressOf(frame, remoteAddress);
    const credential = generateCredential();
    const credentialHash = hashSecret(credential);
    const machineId = frame.facts.machineId;

    const result = store.tx(() => {
      const known = store.nodes.byMachineId(machineId);
      if (known) {
        if (known.role !== grant.role) throw new RoleConflict(known, grant.role);
        // Same node: new credential (the old one stops working), fresh facts; the address is kept
        // once a plan was released, because it is in the node's RKE2 config.
        store.nodes.update(known.name, {
          credentialHash,
          facts: frame.facts,
          ...(PRE_RELEASE.has(known.state) ? { address } : {}),
        });
        const renamed =
          name !== known.name ? ` (requested name ${name} ignored: a machine keeps its node name)` : "";
        store.events.append(
          "node.enrolled",
          known.name,
          `${known.role} ${known.name} re-enrolled, state ${known.state} kept${renamed}`,
        );
        store.tokens.countUse(grant.id);
        return { node: known.name, reenrolled: true };
      }
      if (store.nodes.summary(name)) throw new NodeNameTaken(name);
      store.nodes.insert({
        name,
        machineId,
        role: grant.role,
        address,
        facts: frame.facts,
        credentialHash,
        now: ctx.now(),
      });
      store.events.append(
        "node.enrolled",
        name,
        `${grant.role} ${name} enrolled from ${address} (join token ${grant.id})`,
      );
      store.tokens.countUse(grant.id);
      return { node: name, reenrolled: false };
    });
    logger.info(
      { node: result.node, role: grant.role, joinTokenId: grant.id, reenrolled: result.reenrolled },
      "node enrolled",
    );
    ctx.schedule();
    return { node: result.node, credential };
  }

  /**
   * What the bootstrap asks before it changes anything on the machine: the token's grant, refused
   * (CONFLICT) when the machine, known by its machine id, is enrolled under the other role, which
   * enrol() would refuse too, but only after the agent was installed.
   */
  function verify(token: string, machineId?: string): ReturnType<JoinTokens["verify"]> {
    const grant = joinTokens.verify(token);
    const known = machineId === undefined ? null : store.nodes.byMachineId(machineId);
    if (known && known.role !== grant.role) throw new RoleConflict(known, grant.role);
    return grant;
  }

  function authenticate(frame: HelloFrame): { node: string } {
    const node = store.nodes.get(frame.node);
    // Compare even for an unknown node so timing does not reveal which names exist.
    const matches = secretMatchesHash(frame.credential, node?.credentialHash ?? DUMMY_HASH);
    if (!node || !matches) throw new NodeCredentialInvalid();
    if (node.machineId !== frame.facts.machineId) throw new NodeCredentialWrongMachine(node.name);
    // Relaxed (store/db.ts): the agent sends its facts again on every hello.
    store.tx(() => store.nodes.update(node.name, { facts: frame.facts }), "relaxed");
    return { node: node.name };
  }

  return { enrol, authenticate, verify };
}
