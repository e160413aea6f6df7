#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (onnxruntime-node, CPU, one intra-op and one inter-op thread)
// on one float32 input matrix and writes its one output as a float32 .npy file.
//
//   node run_onnx.js MODEL.onnx INPUT OUTPUT.npy [--shape ROWS,COLS]
//
// INPUT is a .npy file ('<f4', C order, 2-D), or with --shape raw little-endian float32 values
// (ROWS * COLS of them, row-major). The model must have exactly one input and one output, both
// float32. The package is found by node's usual lookup (NODE_PATH: the folder holding
// node_modules/onnxruntime-node's parent, e.g. .cache/onnxruntime-node/node_modules).
// Prints one line "output <name> [<dims>]" on success; on any failure one line "run_onnx: ..." on
// stderr and exit code 1.
'use strict';

const fs = require('fs');

function fail(message) {
  process.stderr.write(`run_onnx: ${message}\n`);
  process.exit(1);
}

/// A .npy file's float32 2-D array: {shape: [rows, cols], data: Float32Array}.
function readNpy(path) {
  const bytes = fs.readFileSync(path);
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${path}: not a .npy file`);
  const major = bytes[6];
  let start, length;
  if (major === 1) {
    start = 10;
    length = bytes.readUInt16LE(8);
  } else if (major === 2 || major === 3) {
    start = 12;
    length = bytes.readUInt32LE(8);
  } else {
    fail(`${path}: unsupported .npy version ${major}`);
  }
  const header = bytes.toString('latin1', start, start + length);
  if (!/'descr':\s*'<f4'/.test(header)) fail(`${path}: expected float32 ('<f4'), header ${header.trim()}`);
  if (!/'fortran_order':\s*False/.test(header)) fail(`${path}: expected C order, header ${header.trim()}`);
  const match = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!match) fail(`${path}: no shape in header ${header.trim()}`);
  const shape = match[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.length !== 2) fail(`${path}: expected a 2-D array, shape (${match[1]})`);
  return {shape, data: floats(bytes.subarray(start + length), shape, path)};
}

/// The little-endian float32 values of `bytes`, exactly rows * cols of them.
function floats(bytes, shape, path) {
  const count = shape[0] * shape[1];
  if (bytes.length !== 4 * count) fail(`${path}: ${bytes.length} data bytes, shape [${shape}] needs ${4 * count}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = bytes.readFloatLE(4 * i);
  return data;
}

/// `data` (Float32Array) of `shape` as a version-1.0 .npy file.
function writeNpy(path, data, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; ++i) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const args = process.argv.slice(2);
  let shape = null;
  const files = [];
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--shape') {
      if (i + 1 >= args.length) fail('--shape: expected ROWS,COLS');
      shape = args[++i].split(',').map(Number);
      if (shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`--shape: expected ROWS,COLS, received '${args[i]}'`);
    } else {
      files.push(args[i]);
    }
  }
  if (files.length !== 3) fail('usage: run_onnx.js MODEL.onnx INPUT OUTPUT.npy [--shape ROWS,COLS]');
  const [modelPath, inputPath, outputPath] = files;

  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (error) {
    fail(`cannot load onnxruntime-node (${error.message.split('\n')[0]}); run scripts/setup.sh`);
  }
  const input = shape ? {shape, data: floats(fs.readFileSync(inputPath), shape, inputPath)} : readNpy(inputPath);

  let session;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      executionProviders: ['cpu'],
    });
  } catch (error) {
    fail(`${modelPath}: ONNX Runtime refused the model: ${error.message.split('\n')[0]}`);
  }
  if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
    fail(`${modelPath}: expected one input and one output, found inputs [${session.inputNames}] outputs [${session.outputNames}]`);
  }
  let results;
  try {
    const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', input.data, input.shape)};
    results = await session.run(feeds);
  } catch (error) {
    fail(`${modelPath}: run failed: ${error.message.split('\n')[0]}`);
  }
  const output = results[session.outputNames[0]];
  if (output.type !== 'float32') fail(`${modelPath}: output '${session.outputNames[0]}' is ${output.type}, expected float32`);
  writeNpy(outputPath, output.data, output.dims);
  process.stdout.write(`output ${session.outputNames[0]} [${output.dims.join(', ')}]\n`);
}

// Run as a script; required as a module (benchmarks/onnx_latency.js) it lends its .npy reader and writer.
if (require.main === module) {
  main().catch((error) => fail(error.stack || String(error)));
}
module.exports = {readNpy, writeNpy};
