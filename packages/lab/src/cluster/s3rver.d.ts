// The parts of @20minutes/s3rver (CommonJS, no types) that s3-server-main.ts uses.
declare module "@20minutes/s3rver" {
  interface S3rverOptions {
    address: string;
    port: number;
    directory: string;
    silent?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs: Buffer[] }[];
    key?: Buffer;
    cert?: Buffer;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<unknown>;
    close(): Promise<void>;
  }
}
declare module "@20minutes/s3rver/lib/models/account.js" {
  interface Account {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
  }
  const AWSAccount: { DUMMY_ACCOUNT: Account };
  export default AWSAccount;
}
