/**
 * The Keras 3 `.keras` archive: a zip of `metadata.json` (keras_version, date_saved),
 * `config.json` (the model, as `serialize_keras_object` writes it, with `compile_config`) and
 * `model.weights.h5` (the state file; see weights.ts). Only the central directory and the two
 * JSON members are read up front; the weights member is handed to HDF5 (which needs it as a file).
 */
import { unreadable } from '../../errors.js';
import { Hdf5File } from '../../io/hdf5.js';
import { ZipArchive, firstEntryName, looksLikeZip } from '../../io/zip.js';
import type { ModelSourceFiles } from '../types.js';
import { unwrapModelJson } from './config.js';
import { kerasContentsOfHdf5, type KerasContents } from './h5-reader.js';

/** Members a `.keras` archive has. */
export const KERAS_ZIP_MEMBERS = ['metadata.json', 'config.json', 'model.weights.h5'];

/** A zip whose first member is one Keras writes first (metadata.json, then config.json). */
export function looksLikeKerasZip(head: Uint8Array): boolean {
  if (!looksLikeZip(head)) return false;
  const first = firstEntryName(head);
  return first !== undefined && KERAS_ZIP_MEMBERS.includes(first);
}

function parseJsonMember(zip: ZipArchive, name: string, file: string): unknown {
  const text = new TextDecoder().decode(zip.read(name));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw unreadable(file, 'keras', `${name} in the archive is not valid JSON: ${(e as Error).message}`);
  }
}

/** Opens a `.keras` archive: its config, metadata and weights file. */
export async function openKerasZip(source: ModelSourceFiles): Promise<KerasContents> {
  const zip = ZipArchive.open(source, source.path, 'keras');
  if (!zip.has('config.json')) {
    throw unreadable(source.path, 'keras', `a zip archive without config.json (members: ${zip.names().slice(0, 8).join(', ')})`,
      'a .keras file holds config.json, metadata.json and model.weights.h5');
  }
  const model = unwrapModelJson(parseJsonMember(zip, 'config.json', source.path), 'config.json');
  const meta = zip.has('metadata.json') ? (parseJsonMember(zip, 'metadata.json', source.path) as Record<string, unknown>) : {};
  const weightsName = zip.has('model.weights.h5') ? 'model.weights.h5' : undefined;
  if (!weightsName) {
    const npz = zip.has('model.weights.npz');
    throw unreadable(source.path, 'keras', npz ? 'the archive stores its weights as model.weights.npz, which mconv does not read' : 'the archive has no model.weights.h5',
      npz ? 'save the model with the default weights format (h5)' : 'the file is incomplete; save the model again');
  }
  const h5 = await Hdf5File.fromBytes(zip.read(weightsName), { name: `${source.path}:${weightsName}`, format: 'keras' });
  const inner = kerasContentsOfHdf5(h5);
  return {
    ...inner,
    model,
    kerasVersion: typeof meta.keras_version === 'string' ? meta.keras_version : model.kerasVersion,
    dateSaved: typeof meta.date_saved === 'string' ? meta.date_saved : undefined,
    trainingConfig: model.trainingConfig,
    container: 'keras-zip',
  };
}
