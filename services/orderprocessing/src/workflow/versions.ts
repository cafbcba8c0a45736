// Every version of the order workflow, each registered under a name of its own: an order in flight
// replays on the version it started on, new orders start on the latest (or on ORDER_WORKFLOW_VERSION).
// A version never changes once orders run on it; its recorded histories (test/replay) prove that.
// How to add a version and retire an old one: the README's "Changing the workflow".
import { orderWorkflowOf, type WorkflowFeatures } from './orderWorkflow.ts';

export interface WorkflowVersion {
  version: number;
  /** Its registered name: what the engine stores with each of its instances. */
  name: string;
  features: WorkflowFeatures;
}

export const WORKFLOW_VERSIONS: readonly WorkflowVersion[] = [
  {
    version: 1,
    name: 'orderWorkflow',
    features: { waitAnnouncedWithReservation: false, failedReserveUndone: false, lostShipmentFound: false },
  },
  {
    version: 2,
    name: 'orderWorkflow.v2',
    features: { waitAnnouncedWithReservation: true, failedReserveUndone: true, lostShipmentFound: false },
  },
  {
    version: 3,
    name: 'orderWorkflow.v3',
    features: { waitAnnouncedWithReservation: true, failedReserveUndone: true, lostShipmentFound: true },
  },
];

export const LATEST_VERSION = Math.max(...WORKFLOW_VERSIONS.map((version) => version.version));

export const workflowOf = (version: WorkflowVersion) => orderWorkflowOf(version.features);

export function versionNamed(name: string): WorkflowVersion | undefined {
  return WORKFLOW_VERSIONS.find((version) => version.name === name);
}

export function versionNumbered(version: number): WorkflowVersion {
  const found = WORKFLOW_VERSIONS.find((each) => each.version === version);
  if (!found)
    throw new Error(
      `no order workflow version ${version} (there are ${WORKFLOW_VERSIONS.map((v) => v.version).join(', ')})`,
    );
  return found;
}
