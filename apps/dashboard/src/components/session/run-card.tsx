'use client';
import { type FormEvent, useState } from 'react';
import type { SessionView } from '@ddnn/contracts';
import { Card, ErrorNote } from '../ui';
import { api } from '../../lib/api';
import { asError } from '../../lib/errors';
import { parseTags } from '../../lib/session-form';

/** Name, tags and note of the run, editable (PATCH /api/sessions/:id). */
export function RunCard({ session, onSaved }: { session: SessionView; onSaved: (s: SessionView) => void }) {
  const [name, setName] = useState(session.name);
  const [tags, setTags] = useState(session.tags.join(', '));
  const [note, setNote] = useState(session.note);
  const [state, setState] = useState<{ busy: boolean; error?: Error; saved?: boolean }>({ busy: false });
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      onSaved(await api.updateSession(session.id, { name: name.trim(), tags: parseTags(tags), note }));
      setState({ busy: false, saved: true });
    } catch (err) {
      setState({ busy: false, error: asError(err) });
    }
  };
  return (
    <Card title="Run">
      <form className="toolbar" onSubmit={save} aria-label="run name and tags">
        <label>
          Name
          <input name="runName" value={name} onChange={(e) => setName(e.target.value)} placeholder="unnamed" style={{ width: 220 }} />
        </label>
        <label>
          Tags (comma separated)
          <input name="runTags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="baseline, night" style={{ width: 220 }} />
        </label>
        <label className="grow">
          Note
          <input name="runNote" value={note} onChange={(e) => setNote(e.target.value)} placeholder="what this run is for" />
        </label>
        <button type="submit" className="secondary" disabled={state.busy} style={{ alignSelf: 'flex-end' }}>
          {state.busy ? 'Saving…' : 'Save'}
        </button>
        {state.saved && <span className="muted" style={{ alignSelf: 'flex-end' }}>saved</span>}
      </form>
      {state.error && <ErrorNote error={state.error} action="save" what="the run" />}
    </Card>
  );
}
