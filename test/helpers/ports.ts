import { freePortBlock, type PortKind } from '../../src/testbed/loopback-ports.js';

/** Where writeClusterFiles puts monitor i: UDP on base + i, its status API on base + 100 + i, metrics on base + 200 + i. */
const CLUSTER_SPAN = 300;

/** A base port for writeClusterFiles whose every port is free now, below the ephemeral range. */
export function clusterBasePort(monitors: number): Promise<number> {
  const needs = Array.from({ length: monitors }, (_, i): Array<{ offset: number; kind: PortKind }> => [
    { offset: i, kind: 'udp' },
    { offset: 100 + i, kind: 'tcp' },
    { offset: 200 + i, kind: 'tcp' },
  ]).flat();
  return freePortBlock(CLUSTER_SPAN, needs);
}

