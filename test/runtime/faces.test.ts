/**
 * The seed cascade on media/faces.jpg. The expected faces were checked by eye on a drawn copy:
 * four faces (the fourth cut by the right edge), boxes as listed, landmarks on eyes, nose, mouth.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { IECore } from "../../kernel";
import { loadBgrPlanar } from "../../kernel/cli/image";
import { facesFrom } from "../../kernel/cli/demo";
import { irPath, MEDIA } from "../helpers/models";

const IMAGE = path.join(MEDIA, "faces.jpg");
/** x, y, w, h in pixels of the 640×360 image, in detection order. */
const EXPECTED = [
  [101, 87, 60, 77],
  [281, 114, 68, 113],
  [602, 34, 38, 87],
  [427, 139, 63, 75],
];

test("faces.jpg: detection, then landmarks and head pose on all faces with setBatch", async () => {
  const ie = new IECore();
  const det = await ie.loadNetwork(await ie.readNetwork(irPath("face-detection-adas-0001")), "CPU");
  const req = det.createInferRequest();
  req.setInput("data", loadBgrPlanar(IMAGE, 672, 384));
  await req.infer();
  const out = req.getBlob("detection_out");
  assert.deepEqual(out.shape, [1, 1, 200, 7]);
  const faces = facesFrom(out.data, 640, 360, 0.5);
  assert.equal(faces.length, EXPECTED.length);
  faces.forEach((f, i) => {
    const [x, y, w, h] = EXPECTED[i];
    for (const [got, want] of [
      [f.x, x],
      [f.y, y],
      [f.w, w],
      [f.h, h],
    ])
      assert.ok(Math.abs(got - want) <= 6, `face ${i}: ${JSON.stringify(f)} vs ${EXPECTED[i]}`);
  });

  const load = async (model: string, size: number) => {
    const net = await ie.readNetwork(irPath(model));
    net.batchSize = 16;
    const r = (await ie.loadNetwork(net, "CPU", { DYN_BATCH_ENABLED: "YES" })).createInferRequest();
    r.setBatch(faces.length);
    const input = r.getBlob(Object.keys(net.inputs)[0]);
    faces.forEach((f, i) => input.data.set(loadBgrPlanar(IMAGE, size, size, f), i * 3 * size * size));
    await r.infer();
    return r;
  };
  const lm = (await load("landmarks-regression-retail-0009", 48)).getBlob("95");
  assert.deepEqual(lm.shape, [faces.length, 10, 1, 1]);
  faces.forEach((f, i) => {
    // Points 0–2 are the eyes and the nose tip, normalised to the crop.
    for (let k = 0; k < 3; k++) {
      const px = lm.data[i * 10 + 2 * k];
      const py = lm.data[i * 10 + 2 * k + 1];
      assert.ok(px > 0.1 && px < 0.9 && py > 0.1 && py < 0.9, `face ${i} point ${k} (${px}, ${py}) outside its box`);
    }
    assert.ok(lm.data[i * 10] < lm.data[i * 10 + 2], `face ${i}: left eye left of right eye`);
  });
  const hp = await load("head-pose-estimation-adas-0001", 60);
  for (const name of ["fc_y", "fc_p", "fc_r"]) {
    const angles = hp.getBlob(name);
    assert.deepEqual(angles.shape, [faces.length, 1]);
    for (const a of angles.data) assert.ok(Math.abs(a) <= 90, `${name} ${a}`);
  }
});
