import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sectionName, type RunKind, type SessionTopology } from '@ddnn/contracts';

/** A queued or running run that a device serves, with the model and section the run installed on it. */
export interface RunUsingDevice {
  runId: string;
  kind: RunKind;
  modelId: string;
  section: string;
}

/**
 * Which devices the queued and running runs (on any node) compute with. A deploy that swapped a device's section
 * mid-run changed what the run computed while its log still named the run's model: the deployer refuses it.
 */
@Injectable()
export class RunsInUseRepository {
  constructor(private readonly db: DataSource) {}

  async byDevice(): Promise<Map<string, RunUsingDevice>> {
    const rows: { id: string; kind: RunKind; model_id: string; topology: SessionTopology }[] = await this.db.query(
      `SELECT id, kind, model_id, spec->'topology' AS topology FROM sessions WHERE status IN ('pending', 'running') AND deletion_requested_at IS NULL`,
    );
    const out = new Map<string, RunUsingDevice>();
    for (const r of rows) {
      const use = (deviceId: string, section: string) => out.set(deviceId, { runId: r.id, kind: r.kind, modelId: r.model_id, section });
      for (const d of r.topology.devices) use(d.deviceId, sectionName.device(d.view));
      for (const e of r.topology.edges ?? []) if (e.deviceId !== null) use(e.deviceId, sectionName.edge(e.name));
    }
    return out;
  }
}
