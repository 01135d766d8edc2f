/**
 * Vega-Lite -> Vega -> SVG on Node (a headless View with renderer 'none'), and SVG -> PNG with
 * resvg. Both libraries are imported on first use: `spine-cli --help` should not load them.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface RenderedChart {
  svg: string;
  png: Uint8Array;
}

/** Fonts resvg looks for first; the SVG asks for the same families. */
const FONT_FAMILY = 'DejaVu Sans';

export async function renderChart(spec: TopLevelSpec, pngScale = 2): Promise<RenderedChart> {
  const [vega, vegaLite, { Resvg }] = await Promise.all([
    import('vega'),
    import('vega-lite'),
    import('@resvg/resvg-js'),
  ]);
  const compiled = vegaLite.compile(spec).spec;
  // The loader refuses every fetch: specs carry their data inline, and a report never goes online.
  const loader = vega.loader();
  loader.load = async (uri: string) => {
    throw new Error(`report charts must not load data (${uri})`);
  };
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader, logLevel: vega.Warn });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: pngScale },
      font: { loadSystemFonts: true, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    })
      .render()
      .asPng();
    return { svg, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength) };
  } finally {
    view.finalize();
  }
}
