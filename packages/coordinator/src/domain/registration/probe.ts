// The port through which the domain asks whether the registration address answers as a joining RKE2
// node would see it; adapters/registration-probe.ts implements it over HTTPS.

export type RegistrationProbe = (address: string) => Promise<boolean>;

/**
 * Makes the probe. It is handed a getter for the cluster token (the token pins the cluster's CA), so
 * the probe always checks against the token the vault holds when it runs.
 */
export type RegistrationProbeFactory = (clusterToken: () => string | null) => RegistrationProbe;
