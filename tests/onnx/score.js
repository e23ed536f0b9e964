// SPDX-License-Identifier: Apache-2.0
// score.js - scores a CSV of feature rows with an ONNX model in onnxruntime-node (test-only).
// usage: node score.js MODEL.onnx ROWS.csv  ->  one line per row: predicted_label,score_0,...
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
    const [model, csv] = process.argv.slice(2);
    const rows = fs.readFileSync(csv, 'utf8').split('\n').filter((l) => l.length > 0)
        .map((l) => l.split(',').map(Number));
    const d = rows[0].length;
    const x = new Float32Array(rows.length * d);
    rows.forEach((r, i) => x.set(r, i * d));
    const s = await ort.InferenceSession.create(model);
    const out = await s.run({ features: new ort.Tensor('float32', x, [rows.length, d]) });
    const c = out.score.dims[1];
    const lines = [];
    for (let i = 0; i < rows.length; i++) {
        const sc = Array.from(out.score.data.slice(i * c, (i + 1) * c));
        lines.push([String(out.predicted_label.data[i]), ...sc.map(String)].join(','));
    }
    process.stdout.write(lines.join('\n') + '\n');
}
main().catch((e) => { console.error(e.message || e); process.exit(1); });
