/**
 * The drawings behind the PNGs in this folder: each icon is a stack of simple shapes in unit coordinates
 * ((0,0) top-left, (1,1) bottom-right), the topmost shape covering a point giving its colour.
 * scripts/generate-icons.ts rasterises them; change a glyph here, then run `npx tsx scripts/generate-icons.ts`.
 * Each tray state differs in shape as well as colour, for owners who cannot tell green from red.
 */
export type Rgba = readonly [number, number, number, number];
export type Shape = (x: number, y: number) => boolean;
export interface Layer {
  color: Rgba;
  shape: Shape;
}

const hex = (value: string, alpha = 255): Rgba => [parseInt(value.slice(1, 3), 16), parseInt(value.slice(3, 5), 16), parseInt(value.slice(5, 7), 16), alpha];
const WHITE = hex("#ffffff");

// Shapes in unit coordinates: (0,0) is the top-left corner, (1,1) the bottom-right.
const circle = (cx: number, cy: number, r: number): Shape => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const rect = (x0: number, y0: number, x1: number, y1: number): Shape => (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const roundedRect = (x0: number, y0: number, x1: number, y1: number, r: number): Shape => (x, y) => {
  const dx = Math.max(x0 + r - x, 0, x - (x1 - r));
  const dy = Math.max(y0 + r - y, 0, y - (y1 - r));
  return x >= x0 && x <= x1 && y >= y0 && y <= y1 && dx * dx + dy * dy <= r * r;
};
const segment = (ax: number, ay: number, bx: number, by: number, width: number): Shape => (x, y) => {
  const lx = bx - ax;
  const ly = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * lx + (y - ay) * ly) / (lx * lx + ly * ly)));
  return (x - ax - t * lx) ** 2 + (y - ay - t * ly) ** 2 <= (width / 2) ** 2;
};
const triangle = (points: readonly [number, number][]): Shape => (x, y) => {
  const [a, b, c] = points as [[number, number], [number, number], [number, number]];
  const side = (p: [number, number], q: [number, number]) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const s1 = side(a, b);
  const s2 = side(b, c);
  const s3 = side(c, a);
  return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
};

const disc = (color: string): Layer => ({ color: hex(color), shape: circle(0.5, 0.5, 0.47) });

/** One glyph per tray state (see src-main/shell/tray-view.ts), plus "error" for a node that is down. */
export const TRAY_GLYPHS: Record<string, Layer[]> = {
  // A play triangle: working.
  contributing: [disc("#2ea043"), { color: WHITE, shape: triangle([[0.38, 0.27], [0.38, 0.73], [0.76, 0.5]]) }],
  // A clock: waiting for the owner to be away.
  "waiting-for-idle": [
    disc("#bf8700"),
    { color: WHITE, shape: circle(0.5, 0.5, 0.31) },
    { color: hex("#bf8700"), shape: segment(0.5, 0.5, 0.5, 0.29, 0.09) },
    { color: hex("#bf8700"), shape: segment(0.5, 0.5, 0.66, 0.5, 0.09) },
  ],
  // Two bars: paused by the owner.
  paused: [disc("#6e7781"), { color: WHITE, shape: rect(0.32, 0.28, 0.44, 0.72) }, { color: WHITE, shape: rect(0.56, 0.28, 0.68, 0.72) }],
  // A thermometer: paused to let the GPU cool.
  "too-hot": [disc("#e8590c"), { color: WHITE, shape: segment(0.5, 0.24, 0.5, 0.6, 0.14) }, { color: WHITE, shape: circle(0.5, 0.68, 0.13) }],
  // A cross: the node is not running.
  error: [disc("#cf222e"), { color: WHITE, shape: segment(0.33, 0.33, 0.67, 0.67, 0.13) }, { color: WHITE, shape: segment(0.67, 0.33, 0.33, 0.67, 0.13) }],
};

/** The app: a ring of peers around a GPU-green core on a dark tile. */
export function appIconLayers(): Layer[] {
  const green = hex("#2ea043");
  const peers = [0, 1, 2, 3, 4, 5].map((i) => {
    const angle = (i / 6) * Math.PI * 2 - Math.PI / 2;
    return { x: 0.5 + Math.cos(angle) * 0.3, y: 0.5 + Math.sin(angle) * 0.3 };
  });
  return [
    { color: hex("#111418"), shape: roundedRect(0.04, 0.04, 0.96, 0.96, 0.2) },
    ...peers.map((p) => ({ color: hex("#57606a"), shape: segment(0.5, 0.5, p.x, p.y, 0.035) })),
    ...peers.map((p, i) => ({ color: i % 2 === 0 ? green : hex("#8c959f"), shape: circle(p.x, p.y, 0.07) })),
    { color: green, shape: circle(0.5, 0.5, 0.14) },
    { color: hex("#111418"), shape: circle(0.5, 0.5, 0.06) },
  ];
}

