import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { configurePhase } from "@muster/agent/phases/configure";
import { placeImages } from "@muster/agent/phases/images";
import t from "tap";
import { fakeHost, fakeHttp, samplePlan } from "../helpers/fakes.ts";
import { phaseContext } from "../helpers/phase-context.ts";

// Air-gap: the kube-vip image tarball named in a server's plan is fetched from the coordinator's
// /v1/artifacts/images/ and placed in RKE2's agent images dir, checked against the plan's sha256.

const COORD = "https://10.0.0.2:9443";
const URL = `${COORD}/v1/artifacts/images/kube-vip-v0.9.2.tar`;
const BODY = "pretend docker-archive";
const SHA = createHash("sha256").update(BODY).digest("hex");
const IMAGES = "var/lib/rancher/rke2/agent/images";
const images = [{ file: "kube-vip-v0.9.2.tar", sha256: SHA }];

t.test("a server's plan image lands in agent/images, once, through configure", async (t) => {
  const root = t.testdir({});
  const { http, fetched } = fakeHttp({}, { [URL]: BODY });
  const host = fakeHost(root, { http });
  const plan = samplePlan({ images });
  const { ctx } = phaseContext(host, plan, { coordinatorUrl: `${COORD}/` });
  const message = await configurePhase.run(ctx);
  const file = path.join(root, IMAGES, "kube-vip-v0.9.2.tar");
  t.equal(readFileSync(file, "utf8"), BODY);
  t.equal(statSync(file).mode & 0o777, 0o644, "an image holds no secret: world-readable like RKE2's own");
  t.same(fetched, [URL], "fetched from the coordinator");
  t.match(message, /1 image\(s\) in \/var\/lib\/rancher\/rke2\/agent\/images, 1 fetched/);
  t.same(readdirSync(path.join(root, IMAGES)), ["kube-vip-v0.9.2.tar"], "no partial file left");

  const again = await placeImages(phaseContext(host, plan, { coordinatorUrl: COORD }).ctx);
  t.match(again, /0 fetched/, "already there with the right hash: not fetched again");
  t.same(fetched, [URL]);
});

t.test("a tarball that does not match the plan's sha256 never lands", async (t) => {
  const root = t.testdir({});
  const { http } = fakeHttp({}, { [URL]: "something else" });
  const host = fakeHost(root, { http });
  const { ctx } = phaseContext(host, samplePlan({ images }), { coordinatorUrl: COORD });
  await t.rejects(placeImages(ctx), /does not match the sha256 in the plan/);
  t.same(readdirSync(path.join(root, IMAGES)), [], "nothing placed, no partial file");
});

t.test("HTTP errors name the URL; agents and image-less plans fetch nothing", async (t) => {
  const root = t.testdir({});
  const { http, fetched } = fakeHttp({}, { [URL]: 404 });
  const host = fakeHost(root, { http });
  await t.rejects(
    placeImages(phaseContext(host, samplePlan({ images }), { coordinatorUrl: COORD }).ctx),
    /downloading image https:\/\/10\.0\.0\.2:9443\/v1\/artifacts\/images\/kube-vip-v0\.9\.2\.tar failed: HTTP 404/,
  );
  fetched.length = 0;
  await configurePhase.run(
    phaseContext(host, samplePlan({ role: "agent", images }), { coordinatorUrl: COORD }).ctx,
  );
  t.same(fetched, [], "an agent's plan never places server images");
  t.equal(await placeImages(phaseContext(host, samplePlan(), { coordinatorUrl: COORD }).ctx), "");
});
