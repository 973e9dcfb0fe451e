import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CONSOLE_CSP, defaultConsoleDir } from "@muster/coordinator/transport/http/routes/console";
import t, { type Test } from "tap";
import { ADMIN_TOKEN, auth, createJoinToken, makeApp } from "../../../helpers/harness.ts";

// GET / and /assets/<hashed> of the web console: open, the right types, cache headers and CSP, a
// 503 in the contract's shape while it is not built, and nothing secret in what it serves.

const INDEX = `<!doctype html><html><head><link rel="stylesheet" href="./assets/app-ABCD1234.css"><script type="module" src="./assets/app-WXYZ9876.js"></script></head><body><div id="app"></div></body></html>`;

/** A scratch dir (makeApp owns the test's testdir) holding a console and a file beside it. */
function scratch(t: Test, files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "muster-console-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

const consoleDir = (t: Test) =>
  scratch(t, {
    "console/index.html": INDEX,
    "console/assets/app-WXYZ9876.js": "export const x = 1;\n",
    "console/assets/app-ABCD1234.css": "body{margin:0}\n",
    "secret.txt": "not for the web",
  });

t.test("GET / serves index.html: open, no-cache, text/html, the console CSP", async (t) => {
  const dir = consoleDir(t);
  const { app } = await makeApp(t, { app: { consoleDir: path.join(dir, "console") } });
  const { token } = await createJoinToken(app, "server");
  const res = await app.inject({ method: "GET", url: "/" });
  t.equal(res.statusCode, 200, "no credentials needed");
  t.equal(res.body, INDEX);
  t.equal(res.headers["content-type"], "text/html; charset=utf-8");
  t.equal(res.headers["cache-control"], "no-cache");
  t.equal(
    res.headers["content-security-policy"],
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  );
  t.equal(CONSOLE_CSP, res.headers["content-security-policy"]);
  t.equal(res.headers["x-content-type-options"], "nosniff");
  t.equal(res.headers["x-frame-options"], "DENY");
  for (const secret of [ADMIN_TOKEN, token, token.split(".")[1]!])
    t.notOk(
      res.body.includes(secret) || JSON.stringify(res.headers).includes(secret),
      "no secret in the page",
    );
  t.notOk(res.headers["set-cookie"], "no cookie");

  const head = await app.inject({ method: "HEAD", url: "/" });
  t.equal(head.statusCode, 200);
  t.equal(head.headers["cache-control"], "no-cache");

  const api = await app.inject({ method: "GET", url: "/v1/cluster", headers: auth });
  t.equal(
    api.headers["content-security-policy"],
    "default-src 'none'; frame-ancestors 'none'",
    "API keeps its own",
  );
  t.equal(api.headers["cache-control"], "no-store");
});

t.test("GET /assets/<hashed> serves immutable files with their content types", async (t) => {
  const dir = consoleDir(t);
  const { app } = await makeApp(t, { app: { consoleDir: path.join(dir, "console") } });
  const js = await app.inject({ method: "GET", url: "/assets/app-WXYZ9876.js" });
  t.equal(js.statusCode, 200);
  t.equal(js.body, "export const x = 1;\n");
  t.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
  t.equal(js.headers["cache-control"], "public, max-age=31536000, immutable");
  t.equal(js.headers["content-security-policy"], CONSOLE_CSP);
  t.equal(js.headers["x-content-type-options"], "nosniff");
  t.equal(Number(js.headers["content-length"]), 20);
  const css = await app.inject({ method: "GET", url: "/assets/app-ABCD1234.css" });
  t.equal(css.statusCode, 200);
  t.equal(css.headers["content-type"], "text/css; charset=utf-8");
  t.equal(css.headers["cache-control"], "public, max-age=31536000, immutable");

  for (const url of [
    "/assets/app-missing.js",
    "/assets/..%2fsecret.txt",
    "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/assets/../secret.txt",
    "/assets/.hidden.js",
    "/assets/index.html",
    "/assets/app-WXYZ9876.js.bak",
  ]) {
    const res = await app.inject({ method: "GET", url });
    t.equal(res.statusCode, 404, url);
    t.match(res.json(), { error: { code: "NOT_FOUND", message: String } }, url);
    t.notOk(res.body.includes("not for the web"), `${url}: nothing outside assets/`);
  }
});

t.test("without a built console GET / is a 503 saying to run npm run build", async (t) => {
  const { app } = await makeApp(t); // no consoleDir
  const res = await app.inject({ method: "GET", url: "/" });
  t.equal(res.statusCode, 503);
  t.equal(res.headers["content-type"], "application/json; charset=utf-8");
  t.match(res.json(), { error: { code: "UNAVAILABLE", message: /npm run build/ } });
  t.equal((await app.inject({ method: "GET", url: "/assets/app-WXYZ9876.js" })).statusCode, 404);
});

t.test("a console built after start is served without a restart", async (t) => {
  const dir = scratch(t, {});
  mkdirSync(path.join(dir, "console"));
  const { app } = await makeApp(t, { app: { consoleDir: path.join(dir, "console") } });
  t.equal((await app.inject({ method: "GET", url: "/" })).statusCode, 503);
  mkdirSync(path.join(dir, "console/assets"));
  writeFileSync(path.join(dir, "console/assets/app-NEW12345.js"), "1");
  writeFileSync(path.join(dir, "console/index.html"), INDEX);
  const res = await app.inject({ method: "GET", url: "/" });
  t.equal(res.statusCode, 200);
  t.equal(res.body, INDEX);
  t.equal((await app.inject({ method: "GET", url: "/assets/app-NEW12345.js" })).statusCode, 200);
});

t.test("defaultConsoleDir finds an installed console or a checkout's dist/console", async (t) => {
  const dir = scratch(t, {
    "usr/lib/muster/lib/muster-coordinator.mjs": "",
    "usr/lib/muster/console/index.html": "x",
    "repo/dist/console/index.html": "x",
    "repo/packages/coordinator/src/transport/http/routes/console.ts": "",
  });
  t.equal(
    defaultConsoleDir(path.join(dir, "usr/lib/muster/lib/muster-coordinator.mjs")),
    path.join(dir, "usr/lib/muster/console"),
  );
  t.equal(
    defaultConsoleDir(path.join(dir, "repo/packages/coordinator/src/transport/http/routes/console.ts")),
    path.join(dir, "repo/dist/console"),
  );
});
