/**
 * What a Keras HDF5 file holds, told apart from its structure:
 * - a full legacy model (Keras 2 `model.save('x.h5')`, or Keras 3 writing `.h5`): root attributes
 *   `model_config` (JSON), `keras_version`, `backend`, maybe `training_config`; weights under
 *   `model_weights` (see weights.ts);
 * - a legacy weights file (`save_weights('x.h5')`): root attribute `layer_names`, no config;
 * - a Keras 3 state file (`save_weights('x.weights.h5')`, the `model.weights.h5` of a `.keras`):
 *   a `layers` group, no config.
 */
import * as fs from 'node:fs';
import { unreadable } from '../../errors.js';
import { Hdf5File, type Hdf5Group } from '../../io/hdf5.js';
import type { ModelSourceFiles } from '../types.js';
import { unwrapModelJson, type ParsedModelJson } from './config.js';
import { isKeras3State } from './weights.js';

type Json = Record<string, unknown>;

export interface KerasContents {
  /** The model config, when the file has one. */
  model?: ParsedModelJson;
  kerasVersion?: string;
  backend?: string;
  trainingConfig?: Json;
  /** `.keras` metadata.json `date_saved`. */
  dateSaved?: string;
  /** How the weights are stored. */
  layout: 'legacy' | 'keras3';
  /** The group the layer groups (legacy) or the `layers` container's parent (Keras 3) are in. */
  weightsRoot: Hdf5Group;
  h5: Hdf5File;
  /** What the container is, for messages and metadata. */
  container: 'hdf5' | 'keras-zip';
}

/** Opens the HDF5 file of a source (by path when it is on disk, else from its bytes). */
export async function openHdf5Source(source: ModelSourceFiles): Promise<Hdf5File> {
  const onDisk = !source.isDirectory && source.path !== '<memory>' && fs.existsSync(source.path);
  return onDisk
    ? Hdf5File.open(source.path, { format: 'keras' })
    : Hdf5File.fromBytes(source.readAll(), { name: source.path, format: 'keras' });
}

/** Reads the structure of a Keras HDF5 file (attributes and group names; no weight data). */
export function kerasContentsOfHdf5(h5: Hdf5File): KerasContents {
  const root = h5.root;
  const version = root.attrString('keras_version');
  const backend = root.attrString('backend');
  if (root.hasAttr('model_config')) {
    const model = unwrapModelJson(root.attrJson('model_config'), 'model_config');
    const training = root.hasAttr('training_config') ? root.attrJson('training_config') : undefined;
    const weightsRoot = root.group('model_weights');
    if (!weightsRoot) {
      throw unreadable(h5.name, 'keras', 'the file has a model_config but no model_weights group',
        'the model was saved without weights; save it again with model.save()');
    }
    return {
      model, kerasVersion: version ?? weightsRoot.attrString('keras_version') ?? model.kerasVersion, backend: backend ?? model.backend,
      trainingConfig: training && typeof training === 'object' ? (training as Json) : undefined,
      layout: isKeras3State(weightsRoot) ? 'keras3' : 'legacy', weightsRoot, h5, container: 'hdf5',
    };
  }
  if (root.hasAttr('layer_names') || root.hasAttr('layer_names0')) {
    return { kerasVersion: version, backend, layout: 'legacy', weightsRoot: root, h5, container: 'hdf5' };
  }
  if (isKeras3State(root)) {
    return { kerasVersion: version, backend, layout: 'keras3', weightsRoot: root, h5, container: 'hdf5' };
  }
  throw unreadable(h5.name, 'keras', 'an HDF5 file, but not a Keras model or weights file (no model_config, layer_names or layers group)',
    'mconv reads HDF5 files written by Keras (model.save / save_weights)');
}
