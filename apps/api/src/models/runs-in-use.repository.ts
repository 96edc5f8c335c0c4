import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sectionName, type RunKind, type SessionTopology } from '@ddnn/contracts';

/** A queued or running run that a device serves, with the model and section the run installs on it. */
export interface RunUsingDevice {
  runId: string;
  kind: RunKind;
  modelId: string;
  section: string;
}

/** The section of `modelId` each device of a topology computes (device-<view>, edge-<name>). */
export function sectionsOf(topology: SessionTopology, modelId: string): { deviceId: string; modelId: string; section: string }[] {
  return [
    ...topology.devices.map((d) => ({ deviceId: d.deviceId, modelId, section: sectionName.device(d.view) })),
    ...(topology.edges ?? []).flatMap((e) => (e.deviceId === null ? [] : [{ deviceId: e.deviceId, modelId, section: sectionName.edge(e.name) }])),
  ];
}

/** The first of `runs` that computes another section (or another model's) on the device than `section` of `modelId`. */
export function conflictingRun(runs: readonly RunUsingDevice[] | undefined, modelId: string, section: string): RunUsingDevice | null {
  return runs?.find((r) => r.modelId !== modelId || r.section !== section) ?? null;
}

/** How a refusal names the run a device is busy with. */
export function busyWith(run: RunUsingDevice): string {
  return `serves ${run.kind} ${run.runId} (${run.section} of model ${run.modelId}): stop the run first`;
}

/**
 * Which devices the queued and running runs (on any node) compute with, and with what. A device computes one
 * section at a time: a deploy or a new run that installed another on it changed what a running run computed
 * while its log still named the run's model, so both are refused.
 */
@Injectable()
export class RunsInUseRepository {
  constructor(private readonly db: DataSource) {}

  /** Every queued or running run each device serves. */
  async byDevice(): Promise<Map<string, RunUsingDevice[]>> {
    const rows: { id: string; kind: RunKind; model_id: string; topology: SessionTopology }[] = await this.db.query(
      `SELECT id, kind, model_id, spec->'topology' AS topology FROM sessions WHERE status IN ('pending', 'running') AND deletion_requested_at IS NULL`,
    );
    const out = new Map<string, RunUsingDevice[]>();
    for (const r of rows) {
      for (const u of sectionsOf(r.topology, r.model_id)) {
        const list = out.get(u.deviceId) ?? [];
        list.push({ runId: r.id, kind: r.kind, modelId: r.model_id, section: u.section });
        out.set(u.deviceId, list);
      }
    }
    return out;
  }

  /** Why a new run of `modelId` on `topology` would take a device from an active run, or null. */
  async topologyConflict(topology: SessionTopology, modelId: string): Promise<string | null> {
    const inUse = await this.byDevice();
    for (const u of sectionsOf(topology, modelId)) {
      const run = conflictingRun(inUse.get(u.deviceId), modelId, u.section);
      if (run) return `topology: device ${u.deviceId} ${busyWith(run)}`;
    }
    return null;
  }
}
