import { createRequire } from 'node:module';
import type * as Undici from 'undici';

let loaded: typeof Undici | undefined;

/**
 * undici, loaded the first time a Redfish client or a CA-pinned OpenStack client is made. Importing
 * it costs ~150 ms of module loading, which every command that reads a monitor config paid
 * (`status --config` during a mass failure, issue #10) though none of them sends a request with it.
 */
export function undici(): typeof Undici {
  return (loaded ??= createRequire(import.meta.url)('undici') as typeof Undici);
}
