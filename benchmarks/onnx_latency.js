#!/usr/bin/env node
// Inference latency of an exported model in ONNX Runtime (onnxruntime-node, CPU, one intra-op and
// one inter-op thread), the counterpart of onnx_latency_bench's xdense timings (onnx_latency.sh).
//
//   node onnx_latency.js MODEL.onnx X_ONE.npy X_ALL.npy [REFERENCE.npy] [--repeats N]
//
// single: session.run() on the one row of X_ONE (a new Tensor each call, as a server would);
// batch: session.run() on every row of X_ALL in one call. Medians over N runs (default 2000 single,
// 20 batch) after warm-up. With REFERENCE (xdense's outputs on X_ALL) prints the max |difference|.
// Prints "onnxruntime,<workload>,<samples>,<median ms>,<min ms>,<us per sample>" lines.
// Finds onnxruntime-node through NODE_PATH (onnx_latency.sh sets it).
'use strict';

const path = require('path');
const {readNpy} = require(path.join(__dirname, '..', 'tests', 'onnx', 'run_onnx.js'));
const ort = require('onnxruntime-node');

async function time(session, feedsOf, warmup, repeats) {
  for (let i = 0; i < warmup; ++i) await session.run(feedsOf());
  const ms = [];
  for (let i = 0; i < repeats; ++i) {
    const start = process.hrtime.bigint();
    await session.run(feedsOf());
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const n = ms.length;
  return {median: n % 2 ? ms[(n - 1) / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, min: ms[0]};
}

async function main() {
  const args = process.argv.slice(2);
  let repeats = 0;
  const files = [];
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--repeats') repeats = Number(args[++i]);
    else files.push(args[i]);
  }
  if (files.length < 3 || files.length > 4 || !(Number.isInteger(repeats) && repeats >= 0)) {
    throw new Error('usage: onnx_latency.js MODEL.onnx X_ONE.npy X_ALL.npy [REFERENCE.npy] [--repeats N]');
  }
  const [modelPath, onePath, allPath, referencePath] = files;
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
  });
  const input = session.inputNames[0], output = session.outputNames[0];
  const one = readNpy(onePath), all = readNpy(allPath);
  const feeds = (x) => () => ({[input]: new ort.Tensor('float32', x.data, x.shape)});

  const single = await time(session, feeds(one), 100, repeats || 2000);
  const batch = await time(session, feeds(all), 2, repeats ? Math.min(repeats, 50) : 20);
  console.log(`onnxruntime,single,1,${single.median.toFixed(4)},${single.min.toFixed(4)},${(1000 * single.median).toFixed(2)}`);
  console.log(`onnxruntime,batch,${all.shape[0]},${batch.median.toFixed(4)},${batch.min.toFixed(4)},${(1000 * batch.median / all.shape[0]).toFixed(3)}`);
  if (referencePath) {
    const reference = readNpy(referencePath);
    const y = (await session.run(feeds(all)()))[output].data;
    let worst = 0;
    for (let i = 0; i < y.length; ++i) worst = Math.max(worst, Math.abs(y[i] - reference.data[i]));
    if (y.length !== reference.data.length) worst = Infinity;
    console.log(`# max |onnxruntime - xdense| over ${all.shape[0]} x ${reference.shape[1]} outputs: ${worst.toExponential(2)}`);
  }
}

main().catch((error) => {
  process.stderr.write(`onnx_latency: ${error.message}\n`);
  process.exit(1);
});
