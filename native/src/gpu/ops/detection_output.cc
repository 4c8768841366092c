// GPU DetectionOutput (OpenVINO DetectionOutput-1/-8, Caffe SSD), the semantics of native/OPS.md:
// per (image, class) candidates, best topK, greedy NMS (kernel detection_nms); per image the
// best keepTopK ordered by label then score (detection_merge); rows image after image
// (detection_write). Same total order of detections as the CPU op, so the same rows.
#include <algorithm>

#include "detection_output_spec.h"
#include "gpu/gpu_op.h"

namespace dynbatch {
namespace gpu {
namespace {

// Layout-identical to the OpenCL C det_params struct.
struct DetParams {
  cl_int P, C, locClasses, background, topK, keepTopK, maxKept, slots;
  cl_int shareLocation, varianceInTarget, normalized, clipBefore, clipAfter, decreaseLabel, code, priorsPerImage;
  cl_int rowLen, priorStride, rows;
  cl_int offS, offP, offL, offKept, offKeptCount, offOrder, offOrderCount;
  cl_float nms, conf, inputWidth, inputHeight;
};

class DetectionOutputOp : public GpuOp {
 public:
  DetectionOutputOp(const OpSpec& spec, Builder& b)
      : name_(spec.name),
        nms_(b.kernel("detection_nms")),
        merge_(b.kernel("detection_merge")),
        write_(b.kernel("detection_write")) {
    const DetectionOutputSpec d = parseDetectionOutput(spec);
    const Shape& ps = spec.inputs[2]->maxShape;
    DetParams& q = q_;
    q = {};
    q.background = static_cast<cl_int>(d.background);
    q.nms = d.nmsThreshold;
    q.conf = d.confThreshold;
    q.shareLocation = d.shareLocation;
    q.varianceInTarget = d.varianceInTarget;
    q.normalized = d.normalized;
    q.clipBefore = d.clipBefore;
    q.clipAfter = d.clipAfter;
    q.decreaseLabel = d.decreaseLabel;
    q.inputHeight = d.inputHeight;
    q.inputWidth = d.inputWidth;
    q.code = static_cast<cl_int>(d.code);
    const int64_t P = d.numPriors, topK = d.topK;
    q.P = toInt(P, name_);
    q.C = toInt(d.numClasses, name_);
    q.locClasses = toInt(d.locClasses, name_);
    q.topK = toInt(topK, name_);
    q.keepTopK = toInt(d.keepTopK, name_);
    q.slots = q.decreaseLabel ? 1 : q.C;
    q.maxKept = topK > -1 ? toInt(std::min(topK, P), name_) : q.P;
    q.rowLen = toInt(ps[2], name_);
    q.priorStride = toInt(ps[1] * ps[2], name_);
    q.rows = toInt(spec.outputs[0]->maxShape[2], name_);
    // Scratch in 4-byte words, sized for the maximum number of images.
    const int64_t images = spec.inputs[0]->maxShape[0], lists = images * q.slots;
    int64_t at = 0;
    auto take = [&](int64_t words) {
      const int64_t start = at;
      at += words;
      return toInt(start, name_);
    };
    q.offS = take(lists * P);
    q.offP = take(lists * P);
    q.offL = take(lists * P);
    q.offKept = take(lists * q.maxKept * 7);
    q.offKeptCount = take(lists);
    q.offOrder = take(lists * q.maxKept);
    q.offOrderCount = take(images);
    words_ = at;
  }

  size_t scratchBytes() const override { return static_cast<size_t>(words_) * 4; }

  void enqueue(Run& r, const std::vector<DevTensor>& in, const std::vector<DevTensor>& out) override {
    const int64_t images = in[0].shape[0];
    if (in[1].shape[0] != images) throw OpError(name_, "detection_output: loc and conf differ in batch at run time");
    const int64_t priorImages = in[2].shape[0];
    if (priorImages != 1 && priorImages != images)
      throw OpError(name_, "detection_output: priors batch is neither 1 nor the images' batch");
    DetParams q = q_;
    q.priorsPerImage = priorImages != 1;
    const cl_int n = toInt(images, name_);
    nms_->launch(r.queue, static_cast<size_t>(images * q.slots), in[0].mem, in[1].mem, in[2].mem, n, q, r.scratch);
    merge_->launch(r.queue, static_cast<size_t>(images), n, q, r.scratch);
    write_->launch(r.queue, 1, n, q, r.scratch, out[0].mem);
  }

 private:
  std::string name_;
  std::unique_ptr<Kernel> nms_, merge_, write_;
  DetParams q_{};
  int64_t words_ = 0;
};

std::unique_ptr<GpuOp> makeDetectionOutput(const OpSpec& s, Builder& b) { return std::make_unique<DetectionOutputOp>(s, b); }

}  // namespace

DYNBATCH_REGISTER_GPU_OP("detection_output", makeDetectionOutput,
                         {"numClasses", "backgroundLabelId", "topK", "keepTopK", "nmsThreshold", "confidenceThreshold",
                          "shareLocation", "varianceEncodedInTarget", "codeType", "normalized", "clipBeforeNms", "clipAfterNms",
                          "decreaseLabelId", "inputHeight", "inputWidth", "objectnessScore"});

}  // namespace gpu
}  // namespace dynbatch
