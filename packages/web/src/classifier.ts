/**
 * The network on the page's GPU: built from a WebModel with @spine/models' own classes, its
 * weights loaded strictly (a missing, extra or misshapen tensor is a ModelFileError naming the
 * key), and films classified exactly as `spine-cli predict` does: decode -> grey -> resize to the
 * input size -> normalised planes -> forward -> softmax. Grad-CAM runs in the same pass
 * (@spine/models' gradCam returns the softmax of the logits it explains), so a film costs one
 * forward and one backward through the head.
 */
import * as T from '@spine/tensor';
import type { Module } from '@spine/nn';
import type { Image } from '@spine/imaging';
import {
  buildModel,
  camOverlay,
  gradCam,
  preprocess,
  resolveTransform,
  toNetworkInput,
  type ModelConfig,
  type ResolvedTransform,
  type RunModel,
} from '@spine/models/browser';
import { ModelFileError, type WebModel } from './model-file.js';

export interface FilmCam {
  /** Softmax probability of class 1 (male). */
  probMale: number;
  /** Grad-CAM map of the predicted class, h x w, unscaled. */
  map: Float32Array;
  height: number;
  width: number;
  layer: string;
}

/** The page runs inference only: DenseNet's memory-efficient bottleneck matters for training alone. */
function buildNetwork(m: ModelConfig): RunModel {
  return buildModel(m.kind === 'densenet' ? { ...m, memoryEfficient: false } : m);
}

export class Classifier {
  private constructor(
    readonly spec: Omit<WebModel, 'weights'>,
    private readonly network: Module,
    private readonly transform: ResolvedTransform,
  ) {}

  /** Builds and loads the network; the device must be ready (`await T.ready()`). */
  static create(webModel: WebModel): Classifier {
    const { weights, ...spec } = webModel;
    let network: Module;
    try {
      network = buildNetwork(spec.model);
    } catch (e) {
      throw new ModelFileError(spec.label, `its network configuration cannot be built (${(e as Error).message})`);
    }
    try {
      network.loadStateDict(weights);
    } catch (e) {
      network.dispose();
      throw new ModelFileError(spec.label, `its weights do not fit the network it describes (${(e as Error).message})`);
    }
    network.eval();
    return new Classifier(spec, network, resolveTransform({ ...spec.transform, augment: false }));
  }

  /** The network input (3 planes, normalised) of a decoded film: predict's preprocessing. */
  networkInput(film: Image, out: Float32Array, offset: number): void {
    toNetworkInput(preprocess(film, this.transform), this.transform, out, offset);
  }

  /** Probabilities and Grad-CAM maps of films (in one batch). */
  async classify(films: readonly Image[]): Promise<FilmCam[]> {
    const { width, height } = this.transform;
    const plane = 3 * width * height;
    const inputs = new Float32Array(films.length * plane);
    films.forEach((film, i) => this.networkInput(film, inputs, i * plane));
    const x = T.tensor(inputs, [films.length, 3, height, width]);
    try {
      const cam = await gradCam(this.network, x);
      return cam.maps.map((map, i) => ({
        probMale: cam.probabilities[i]![1]!,
        map,
        height: cam.height,
        width: cam.width,
        layer: cam.layer,
      }));
    } finally {
      x.dispose();
    }
  }

  /**
   * The film as the network saw it (grey, at most maxSide pixels) and the colour-mapped Grad-CAM
   * map on it at full opacity; the page blends the two with the opacity slider, which is what
   * camOverlay's alpha does (a linear blend).
   */
  pictures(film: Image, cam: FilmCam, maxSide: number): { film: Image; heat: Image } {
    const t = this.spec.transform;
    return {
      film: camOverlay(film, cam.map, cam.height, cam.width, t, { maxSide, alpha: 0 }),
      heat: camOverlay(film, cam.map, cam.height, cam.width, t, { maxSide, alpha: 1 }),
    };
  }

  dispose(): void {
    this.network.dispose();
  }
}
