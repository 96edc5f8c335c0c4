import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rewindProjections } from './1764748800000-session-summary-shape';

/**
 * device_statuses rows gain counters (`answered`, `connects`, `disconnects`) that only a replay of the whole log
 * can fill in; a row without them would count from the upgrade on. Both projections are rewound (the replay
 * re-applies every event to both tables), as the summary-shape migration does.
 */
export class DeviceStatusCounters1764928800000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await rewindProjections(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await rewindProjections(q);
  }
}
