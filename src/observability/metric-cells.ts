/** Label names and the pending-request cell shared by inferd's and Triton's metric families. */

export type ModelLabels = 'model' | 'version';

/** Written by a model version's observer, read when /metrics is scraped. */
export interface PendingCell {
  readonly labels: Record<ModelLabels, string>;
  value: number;
}
