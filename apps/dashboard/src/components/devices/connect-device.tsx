'use client';
import { useEffect, useState } from 'react';
import type { ProfileCreatedResponse } from '@ddnn/contracts';
import { Card, ErrorNote } from '../ui';
import { api } from '../../lib/api';
import { deviceAgentCommand } from '../../lib/device-command';
import { asError } from '../../lib/errors';
import { useAsync } from '../../lib/use-async';

/** A profile name no click repeats: profile names are unique, and an operator may make several a day. */
function newProfileName(): string {
  const rnd = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `cameras-${new Date().toISOString().slice(0, 10)}-${rnd}`;
}

/** How many device profiles there are, as the sentence says it: `1 profile exists`, `2 profiles exist`. */
function profilesCount(n: number): string {
  return n === 1 ? '1 profile exists' : `${n} profiles exist`;
}

/** The command that provisions and starts a device agent, with a new profile's key when asked. */
export function ConnectDevice() {
  const profiles = useAsync(() => api.profiles(), []);
  const [created, setCreated] = useState<ProfileCreatedResponse | null>(null);
  const [key, setKey] = useState('');
  const [name, setName] = useState('cam-0');
  const [view, setView] = useState('0');
  const [role, setRole] = useState<'end-device' | 'edge'>('end-device');
  const [err, setErr] = useState<Error | null>(null);
  const [copied, setCopied] = useState(false);
  const [server, setServer] = useState('http://localhost:3000');
  useEffect(() => setServer(window.location.origin), []);
  const newProfile = async () => {
    setErr(null);
    try {
      const p = await api.createProfile({ name: newProfileName(), description: 'created from the dashboard' });
      setCreated(p);
      setKey(p.provisioningKey);
      profiles.reload();
    } catch (e) {
      setErr(asError(e));
    }
  };
  const cmd = deviceAgentCommand({ server, profileKey: key || '<PROFILE_KEY>', name, view, role });
  return (
    <Card title="Connect a new device">
      <p className="muted" style={{ marginTop: 0 }}>
        A device provisions itself with a device profile&apos;s provisioning key, keeps the token it gets, and connects. The key is shown
        once, when the profile is created. Run the command from the repository root: the agent reads its camera view from the datasets
        npm start keeps in .data/datasets{profiles.data ? ` (${profilesCount(profiles.data.length)})` : ''}; an API given another
        DDNN_DATA_DIR keeps them in its datasets folder: give --data that folder.
      </p>
      <div className="toolbar">
        <label>
          Provisioning key
          <input value={key} onChange={(e) => setKey(e.target.value)} placeholder="paste a profile key" style={{ width: 260 }} />
        </label>
        <button type="button" className="secondary" onClick={newProfile} style={{ alignSelf: 'flex-end' }}>
          New profile + key
        </button>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} style={{ width: 120 }} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as 'end-device' | 'edge')}>
            <option value="end-device">end device</option>
            <option value="edge">edge node</option>
          </select>
        </label>
        {role === 'end-device' && (
          <label>
            Camera view
            <input value={view} onChange={(e) => setView(e.target.value)} style={{ width: 70 }} />
          </label>
        )}
      </div>
      {created && (
        <p className="note">
          Profile <strong>{created.name}</strong> created. Its key is in the command below: it will not be shown again.
        </p>
      )}
      {err && <ErrorNote error={err} action="create" what="a profile" />}
      <div className="copy">
        <pre data-testid="device-command">{cmd}</pre>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            void navigator.clipboard?.writeText(cmd).then(() => {
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            });
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </Card>
  );
}
