import ipaddr from "ipaddr.js";

// Small IPv4 helpers over ipaddr.js, kept in one place so subnet rules are the same everywhere.
export function isIPv4(value: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(value);
}

export function inSameSubnet(a: string, b: string, prefix: number): boolean {
  if (!isIPv4(a) || !isIPv4(b)) return false;
  return ipaddr.IPv4.parse(a).match(ipaddr.IPv4.parse(b), prefix);
}

export function cidrContains(cidr: string, ip: string): boolean {
  try {
    const [range, bits] = ipaddr.IPv4.parseCIDR(cidr);
    return isIPv4(ip) && ipaddr.IPv4.parse(ip).match(range, bits);
  } catch {
    return false;
  }
}

const HOSTNAME_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** RFC 1123 hostname (lowercase, as Kubernetes node names require). */
export function isRfc1123Hostname(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split(".").every((l) => HOSTNAME_LABEL.test(l));
}

/** An IPv4 address or an RFC 1123 DNS name. */
export function isHostOrIp(value: string): boolean {
  return isIPv4(value) || isRfc1123Hostname(value);
}
