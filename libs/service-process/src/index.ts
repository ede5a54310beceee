/**
 * Starts the platform's services (and its helper servers) as processes:
 * the one way `npm start`, the end-to-end specs, the fault suite and the
 * benchmark do it.
 */
export {
  ROOT,
  ServiceProcess,
  canPin,
  freePort,
  portOpen,
  spawnNode,
  type NodeProcess,
  type NodeProcessOptions,
  type ProcessOutput,
  type ServiceProcessOptions,
} from './service-process';
