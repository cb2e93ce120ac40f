/** The cluster layout's port block lives with the layout (src/testbed/demo/cluster-files.ts). */
export { clusterBasePort } from '../../src/testbed/demo/cluster-files.js';
