// GPU DetectionOutput (OpenVINO DetectionOutput-1/-8, Caffe SSD), the semantics of native/OPS.md:
// per (image, class) candidates, best topK, greedy NMS (kernel detection_nms); per image the
// best keepTopK ordered by label then score (detection_merge); rows image after image
// (detection_write). Same total order of detections as the CPU op, so the same rows.
#include <algorithm>

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
      : name_(spec.name), nms_(b.kernel("detection_nms")), merge_(b.kernel("detection_merge")), write_(b.kernel("detection_write")) {
    if (spec.inputs.size() != 3)
      throw OpError(name_, "detection_output: takes loc, conf and priors (the 5-input ARM form is not supported)");
    if (spec.outputs.size() != 1) throw OpError(name_, "detection_output: has one output");
    const Attrs& a = spec.attrs;
    DetParams& q = q_;
    q = {};
    q.background = static_cast<cl_int>(a.integer("backgroundLabelId", 0));
    const int64_t topK = a.integer("topK", -1);
    const std::vector<int64_t> keep = a.ints("keepTopK", {-1});
    if (keep.empty()) throw OpError(name_, "detection_output: keepTopK is empty");
    q.nms = static_cast<float>(a.num("nmsThreshold"));
    q.conf = static_cast<float>(a.num("confidenceThreshold", 0.0));
    q.shareLocation = a.integer("shareLocation", 1) != 0;
    q.varianceInTarget = a.integer("varianceEncodedInTarget", 0) != 0;
    q.normalized = a.integer("normalized", 1) != 0;
    q.clipBefore = a.integer("clipBeforeNms", 0) != 0;
    q.clipAfter = a.integer("clipAfterNms", 0) != 0;
    q.decreaseLabel = a.integer("decreaseLabelId", 0) != 0;
    q.inputHeight = static_cast<float>(a.num("inputHeight", 1.0));
    q.inputWidth = static_cast<float>(a.num("inputWidth", 1.0));
    const std::string code = a.str("codeType", "caffe.PriorBoxParameter.CORNER");
    auto endsWith = [&](const std::string& s) {
      return code.size() >= s.size() && code.compare(code.size() - s.size(), s.size(), s) == 0 &&
             (code.size() == s.size() || code[code.size() - s.size() - 1] == '.');
    };
    if (endsWith("CENTER_SIZE")) q.code = 1;
    else if (endsWith("CORNER_SIZE")) q.code = 2;
    else if (endsWith("CORNER")) q.code = 0;
    else throw OpError(name_, "detection_output: unknown codeType '" + code + "'");
    if (!q.normalized && (q.inputHeight <= 0.f || q.inputWidth <= 0.f))
      throw OpError(name_, "detection_output: inputHeight and inputWidth must be positive when boxes are not normalized");
    if (topK < -1 || topK == 0) throw OpError(name_, "detection_output: topK must be positive or -1");

    const Shape& ls = spec.inputs[0]->maxShape;
    const Shape& cs = spec.inputs[1]->maxShape;
    const Shape& ps = spec.inputs[2]->maxShape;
    const Shape& os = spec.outputs[0]->maxShape;
    if (ls.size() != 2 || cs.size() != 2) throw OpError(name_, "detection_output: loc and conf must be 2-D [N, ...]");
    if (ps.size() != 3 || (ps[1] != 1 && ps[1] != 2)) throw OpError(name_, "detection_output: priors must be [1|N, 1|2, P·4]");
    if (ps[1] == 1 && !q.varianceInTarget)
      throw OpError(name_, "detection_output: priors carry no variances but varianceEncodedInTarget is false");
    const int64_t priorSize = q.normalized ? 4 : 5;
    if (ps[2] % priorSize != 0) throw OpError(name_, "detection_output: priors length is not a multiple of " + std::to_string(priorSize));
    const int64_t P = ps[2] / priorSize;
    if (P == 0) throw OpError(name_, "detection_output: no priors");
    const int64_t C = a.has("numClasses") ? a.integer("numClasses") : cs[1] / P;
    if (C <= 0 || cs[1] != P * C)
      throw OpError(name_, "detection_output: conf holds " + std::to_string(cs[1]) + " scores per image, expected priors (" +
                               std::to_string(P) + ") × classes (" + std::to_string(C) + ")");
    const int64_t locClasses = q.shareLocation ? 1 : C;
    if (ls[1] != P * locClasses * 4)
      throw OpError(name_, "detection_output: loc holds " + std::to_string(ls[1]) + " values per image, expected " +
                               std::to_string(P * locClasses * 4));
    if (os.size() != 4 || os[0] != 1 || os[1] != 1 || os[3] != 7) throw OpError(name_, "detection_output: output must be [1, 1, R, 7]");
    if (ls[0] != cs[0]) throw OpError(name_, "detection_output: loc and conf differ in batch");

    q.P = toInt(P, name_);
    q.C = toInt(C, name_);
    q.locClasses = toInt(locClasses, name_);
    q.topK = toInt(topK, name_);
    q.keepTopK = toInt(keep[0], name_);
    q.slots = q.decreaseLabel ? 1 : q.C;
    q.maxKept = topK > -1 ? toInt(std::min(topK, P), name_) : q.P;
    q.rowLen = toInt(ps[2], name_);
    q.priorStride = toInt(ps[1] * ps[2], name_);
    q.rows = toInt(os[2], name_);
    // Scratch in 4-byte words, sized for the maximum number of images.
    const int64_t images = ls[0], lists = images * q.slots;
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
                          "shareLocation", "varianceEncodedInTarget", "codeType", "normalized", "clipBeforeNms",
                          "clipAfterNms", "decreaseLabelId", "inputHeight", "inputWidth", "objectnessScore"});

}  // namespace gpu
}  // namespace dynbatch
