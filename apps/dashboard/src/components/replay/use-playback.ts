import { type Dispatch, type SetStateAction, useEffect, useState } from 'react';

/** Where a replay stands among its `count` samples (1-based), and whether and how fast it plays. */
export interface Playback {
  pos: number;
  setPos: Dispatch<SetStateAction<number>>;
  playing: boolean;
  setPlaying: Dispatch<SetStateAction<boolean>>;
  speed: number;
  setSpeed: Dispatch<SetStateAction<number>>;
}

/** Plays `count` samples at `speed` a second, stopping at the last; arrow keys step, space plays and pauses. */
export function usePlayback(count: number, initial: number): Playback {
  const [pos, setPos] = useState(initial);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(5);
  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => {
      setPos((p) => {
        if (p >= count) {
          setPlaying(false);
          return p;
        }
        return p + 1;
      });
    }, 1000 / speed);
    return () => clearInterval(t);
  }, [playing, speed, count]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement)?.tagName === 'INPUT' && (e.target as HTMLInputElement).type !== 'range') return;
      if (e.key === 'ArrowRight') setPos((p) => Math.min(count, p + 1));
      else if (e.key === 'ArrowLeft') setPos((p) => Math.max(1, p - 1));
      else if (e.key === ' ') {
        e.preventDefault();
        setPlaying((x) => !x);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [count]);
  return { pos, setPos, playing, setPlaying, speed, setSpeed };
}
