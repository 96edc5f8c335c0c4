import { createRaster, type Raster } from '../image/raster';
import type { MultiViewDataset } from '../types';
import { viewPixels } from '../types';
import { drawText, GLYPH_HEIGHT, textWidth } from './font';

/** Layout of a contact sheet. */
export interface SheetOptions {
  /** Samples shown per class (the first ones of each class, train and test alike). */
  perClass?: number;
  /** Each view pixel becomes scale x scale sheet pixels. */
  scale?: number;
}

const BACKGROUND = [245, 245, 245];
const INK = [30, 30, 30];
const MISSING = [200, 200, 200];
const CROSS = [170, 60, 60];

function fill(img: Raster, x: number, y: number, w: number, h: number, colour: number[]): void {
  for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) img.data.set(colour, (j * img.width + i) * 3);
}

/**
 * A contact sheet PNG raster: a few samples per class, one row each, all views side by side
 * (a missing view is a grey cell with a red cross), labelled with class and sample id.
 */
export function contactSheet(ds: MultiViewDataset, options: SheetOptions = {}): Raster {
  const perClass = options.perClass ?? 4;
  const scale = options.scale ?? 3;
  const m = ds.manifest;
  const rows: number[] = [];
  m.classes.forEach((_, c) => {
    let taken = 0;
    for (let n = 0; n < ds.sampleIds.length && taken < perClass; n++) {
      if (ds.labels[n] === c) {
        rows.push(n);
        taken++;
      }
    }
  });
  const text = 2;
  const gap = 6;
  const cellW = m.width * scale;
  const cellH = m.height * scale;
  const labelW = Math.max(...rows.map((n) => Math.max(textWidth(m.classes[ds.labels[n]], text), textWidth(ds.sampleIds[n], text))), textWidth('SAMPLE', text)) + 2 * gap;
  const headerH = GLYPH_HEIGHT * text * 2 + 2 * gap;
  const titleText = `${m.name}  ${ds.sampleIds.length} SAMPLES  ${m.views} VIEWS`;
  const width = Math.max(labelW + m.views * (cellW + gap) + gap, textWidth(titleText, text) + 2 * gap);
  const height = headerH + rows.length * (cellH + gap) + gap;
  const img = createRaster(width, height, 3);
  fill(img, 0, 0, width, height, BACKGROUND);
  drawText(img, titleText, gap, gap, INK, text);
  const headY = gap + GLYPH_HEIGHT * text + gap / 2;
  for (let v = 0; v < m.views; v++) drawText(img, `VIEW ${v}`, labelW + v * (cellW + gap), headY, INK, text);
  rows.forEach((n, r) => {
    const y = headerH + r * (cellH + gap);
    drawText(img, m.classes[ds.labels[n]], gap, y + 4, INK, text);
    drawText(img, ds.sampleIds[n], gap, y + 4 + GLYPH_HEIGHT * text + 4, [110, 110, 110], text);
    for (let v = 0; v < m.views; v++) {
      const x = labelW + v * (cellW + gap);
      if (!ds.present[n * m.views + v]) {
        fill(img, x, y, cellW, cellH, MISSING);
        for (let k = 0; k < cellW; k++) {
          const yy = Math.floor((k * cellH) / cellW);
          for (const [px, py] of [[x + k, y + yy], [x + cellW - 1 - k, y + yy]]) img.data.set(CROSS, (py * width + px) * 3);
        }
        continue;
      }
      const pix = viewPixels(ds, n, v);
      for (let j = 0; j < cellH; j++) {
        for (let i = 0; i < cellW; i++) {
          const src = (Math.floor(j / scale) * m.width + Math.floor(i / scale)) * m.channels;
          const o = ((y + j) * width + x + i) * 3;
          for (let k = 0; k < 3; k++) img.data[o + k] = Math.round(255 * pix[src + (m.channels === 3 ? k : 0)]);
        }
      }
    }
  });
  return img;
}
