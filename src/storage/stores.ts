import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { FileStore } from './file-store';
import { isS3Location } from './location';
import { S3Store } from './s3-store';
import type { Store } from './store';

const files = new FileStore();
let s3: S3Store | undefined;

/** The store that holds `location`: S3 for `s3://bucket/key`, the filesystem for a path. */
export function storeFor(location: string): Store {
  if (!isS3Location(location)) return files;
  s3 ??= new S3Store(new S3Client(s3ClientSettings(process.env)));
  return s3;
}

/**
 * The S3 client's settings. Credentials, region and endpoint come from the AWS default chain and
 * the SDK's own variables (`AWS_ENDPOINT_URL_S3` for an S3-compatible server), never from a run's
 * config. A custom endpoint gets path-style addressing (`http://host:port/bucket/key`: such
 * servers rarely have the wildcard DNS that bucket subdomains need) unless
 * `ARBITER_S3_FORCE_PATH_STYLE=0`, a default region, which such servers ignore but the SDK needs
 * to sign, and checksums only where the API requires them: the SDK's default (a CRC32 trailer in
 * aws-chunked encoding on every upload, whole-object checksums checked on every download) is
 * Amazon S3's own and many S3-compatible servers refuse the first and break the second on ranged
 * reads.
 */
export function s3ClientSettings(env: NodeJS.ProcessEnv): S3ClientConfig {
  const customEndpoint = Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  const pathStyle = env.ARBITER_S3_FORCE_PATH_STYLE;
  return {
    forcePathStyle: pathStyle === undefined || pathStyle === '' ? customEndpoint : pathStyle !== '0' && pathStyle !== 'false',
    ...(customEndpoint && !env.AWS_REGION && !env.AWS_DEFAULT_REGION ? { region: 'us-east-1' } : {}),
    ...(customEndpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
  };
}
