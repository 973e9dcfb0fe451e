// The kubelet's health endpoint, http://127.0.0.1:10248/healthz (the node's loopback address; see
// loopbackFor()).
import { type Listener, listenHttp, ok, plain } from "./http.ts";

export function startKubeletHealthz(loopback: string): Promise<Listener> {
  return listenHttp(loopback, 10248, (req) =>
    req.url === "/healthz" ? ok("ok") : plain(404, "404 page not found\n"),
  );
}
