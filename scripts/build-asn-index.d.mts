// Types for build-asn-index.mjs, so TypeScript callers (tests) import it checked.

export declare const MAGIC: string;
export declare const FORMAT_VERSION: number;
export declare const BYTE_ORDER_MARK: number;
export declare const HEADER_SIZE: number;
export declare const NO_ORG: number;
export declare const SOURCE_PACKAGE: string;
export declare const IPV4_CSV: string;
export declare const IPV6_CSV: string;

export interface AsnSource {
  dir: string;
  version: string;
  nodeModules: string;
  ipv4Bytes: number;
  ipv6Bytes: number;
}

export interface IndexMeta {
  source: string;
  version: string;
  csv: { ipv4Bytes: number; ipv6Bytes: number };
  rows: { ipv4: number; ipv6: number };
  ranges: { ipv4: number; ipv6: number };
  overlaps: { ipv4: number; ipv6: number };
  orgs: number;
  builtAt: string;
}

export interface Range<T> {
  s: T;
  e: T;
  w: T;
  asn: number;
  org: number;
}

export declare function isPublicAsn(asn: number): boolean;
export declare function locateAsnSource(from?: string): AsnSource;
export declare function indexFileName(version: string): string;
export declare function defaultIndexPath(source?: AsnSource): string;
export declare function parseNumCsv(
  text: string,
  onRow: (start: string, end: string, asn: string, org: string, line: number) => void,
): void;
export declare function resolveOverlaps<T extends number | bigint>(
  rows: Range<T>[],
  one: T,
): { ranges: Range<T>[]; overlaps: number };
export declare function buildAsnIndex(opts?: {
  csvDir?: string;
  version?: string;
  ipv4Bytes?: number;
  ipv6Bytes?: number;
}): Promise<Buffer>;
export declare function readIndexMeta(buf: Buffer): IndexMeta | undefined;
export declare function isCurrentIndex(buf: Buffer, source: AsnSource): boolean;
export declare function writeIndexAtomic(file: string, buf: Buffer): Promise<void>;
export declare function ensureAsnIndex(opts?: {
  out?: string;
  force?: boolean;
}): Promise<{ file: string; built: boolean; bytes: number; meta?: IndexMeta }>;
