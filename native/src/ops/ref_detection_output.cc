// detection_output: OpenVINO DetectionOutput-1/-8 (Caffe SSD) on three inputs.
//   loc    [N, P·L·4]  box offsets, L = 1 (shareLocation) or numClasses
//   conf   [N, P·C]    class scores per prior
//   priors [1|N, 1|2, P·S]  row 0: prior boxes (S = 4, or 5 with a leading id when not
//          normalized), row 1: 4 variances per prior (absent when encoded in the target)
// Per image: decode boxes, per class keep scores > confidenceThreshold, best topK, greedy NMS
// (IoU > nmsThreshold suppresses), then the best keepTopK over all classes. Rows are
// (image, label, conf, xmin, ymin, xmax, ymax), grouped by image, then by ascending label, then
// by descending score; after the last one a row with image = -1 ends the list, the rest is 0.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>

#include "op.h"

namespace dynbatch {
namespace {

enum class Code { Corner, CenterSize, CornerSize };

struct Box {
  float xmin, ymin, xmax, ymax;
};

float area(const Box& b) {
  if (b.xmax < b.xmin || b.ymax < b.ymin) return 0.f;
  return (b.xmax - b.xmin) * (b.ymax - b.ymin);
}

// Intersection over union of normalized boxes (no +1 on widths: coordinates are fractions).
float iou(const Box& a, const Box& b) {
  if (b.xmin > a.xmax || b.xmax < a.xmin || b.ymin > a.ymax || b.ymax < a.ymin) return 0.f;
  const float w = std::min(a.xmax, b.xmax) - std::max(a.xmin, b.xmin);
  const float h = std::min(a.ymax, b.ymax) - std::max(a.ymin, b.ymin);
  if (w <= 0.f || h <= 0.f) return 0.f;
  const float inter = w * h;
  return inter / (area(a) + area(b) - inter);
}

float clip01(float v) { return std::max(0.f, std::min(1.f, v)); }

struct Detection {
  float score;
  int label;
  int prior;
  Box box;
};

// Higher score first; ties by lower prior index, then lower label (deterministic order).
bool better(const Detection& a, const Detection& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.prior != b.prior) return a.prior < b.prior;
  return a.label < b.label;
}

class DetectionOutputOp : public Op {
 public:
  explicit DetectionOutputOp(const OpSpec& spec) : name_(spec.name) {
    if (spec.inputs.size() != 3)
      throw OpError(name_, "detection_output: takes loc, conf and priors (the 5-input ARM form is not supported)");
    if (spec.outputs.size() != 1) throw OpError(name_, "detection_output: has one output");
    const Attrs& a = spec.attrs;
    background_ = a.integer("backgroundLabelId", 0);
    topK_ = a.integer("topK", -1);
    const std::vector<int64_t> keep = a.ints("keepTopK", {-1});
    if (keep.empty()) throw OpError(name_, "detection_output: keepTopK is empty");
    keepTopK_ = keep[0];
    nmsThreshold_ = static_cast<float>(a.num("nmsThreshold"));
    confThreshold_ = static_cast<float>(a.num("confidenceThreshold", 0.0));
    shareLocation_ = a.integer("shareLocation", 1) != 0;
    varianceInTarget_ = a.integer("varianceEncodedInTarget", 0) != 0;
    normalized_ = a.integer("normalized", 1) != 0;
    clipBefore_ = a.integer("clipBeforeNms", 0) != 0;
    clipAfter_ = a.integer("clipAfterNms", 0) != 0;
    decreaseLabel_ = a.integer("decreaseLabelId", 0) != 0;
    inputHeight_ = static_cast<float>(a.num("inputHeight", 1.0));
    inputWidth_ = static_cast<float>(a.num("inputWidth", 1.0));
    const std::string code = a.str("codeType", "caffe.PriorBoxParameter.CORNER");
    auto endsWith = [&](const std::string& s) {
      return code.size() >= s.size() && code.compare(code.size() - s.size(), s.size(), s) == 0 &&
             (code.size() == s.size() || code[code.size() - s.size() - 1] == '.');
    };
    if (endsWith("CENTER_SIZE")) code_ = Code::CenterSize;
    else if (endsWith("CORNER_SIZE")) code_ = Code::CornerSize;
    else if (endsWith("CORNER")) code_ = Code::Corner;
    else throw OpError(name_, "detection_output: unknown codeType '" + code + "'");
    if (!normalized_ && (inputHeight_ <= 0.f || inputWidth_ <= 0.f))
      throw OpError(name_, "detection_output: inputHeight and inputWidth must be positive when boxes are not normalized");
    if (topK_ < -1 || topK_ == 0) throw OpError(name_, "detection_output: topK must be positive or -1");

    const Shape& ls = spec.inputs[0]->maxShape;
    const Shape& cs = spec.inputs[1]->maxShape;
    const Shape& ps = spec.inputs[2]->maxShape;
    const Shape& os = spec.outputs[0]->maxShape;
    if (ls.size() != 2 || cs.size() != 2) throw OpError(name_, "detection_output: loc and conf must be 2-D [N, ...]");
    if (ps.size() != 3 || (ps[1] != 1 && ps[1] != 2)) throw OpError(name_, "detection_output: priors must be [1|N, 1|2, P·4]");
    if (ps[1] == 1 && !varianceInTarget_)
      throw OpError(name_, "detection_output: priors carry no variances but varianceEncodedInTarget is false");
    const int64_t priorSize = normalized_ ? 4 : 5;
    if (ps[2] % priorSize != 0) throw OpError(name_, "detection_output: priors length is not a multiple of " + std::to_string(priorSize));
    numPriors_ = ps[2] / priorSize;
    if (numPriors_ == 0) throw OpError(name_, "detection_output: no priors");
    if (a.has("numClasses")) numClasses_ = a.integer("numClasses");
    else numClasses_ = cs[1] / numPriors_;
    if (numClasses_ <= 0 || cs[1] != numPriors_ * numClasses_)
      throw OpError(name_, "detection_output: conf holds " + std::to_string(cs[1]) + " scores per image, expected priors (" +
                               std::to_string(numPriors_) + ") × classes (" + std::to_string(numClasses_) + ")");
    const int64_t locClasses = shareLocation_ ? 1 : numClasses_;
    if (ls[1] != numPriors_ * locClasses * 4)
      throw OpError(name_, "detection_output: loc holds " + std::to_string(ls[1]) + " values per image, expected " +
                               std::to_string(numPriors_ * locClasses * 4));
    if (os.size() != 4 || os[0] != 1 || os[1] != 1 || os[3] != 7) throw OpError(name_, "detection_output: output must be [1, 1, R, 7]");
    if (ls[0] != cs[0]) throw OpError(name_, "detection_output: loc and conf differ in batch");
  }

  void run(RunContext&, const std::vector<Tensor>& in, const std::vector<Tensor>& out) override {
    const Tensor& loc = in[0];
    const Tensor& conf = in[1];
    const Tensor& priors = in[2];
    const int64_t images = loc.shape[0];
    if (conf.shape[0] != images) throw OpError(name_, "detection_output: loc and conf differ in batch at run time");
    if (priors.shape[0] != 1 && priors.shape[0] != images)
      throw OpError(name_, "detection_output: priors batch is neither 1 nor the images' batch");
    const int64_t rows = out[0].shape[2];
    std::vector<std::vector<Detection>> perImage(images);
#pragma omp parallel for schedule(dynamic) if (images > 1)
    for (int64_t i = 0; i < images; ++i) {
      const float* pri = priors.data + (priors.shape[0] == 1 ? 0 : i) * priors.shape[1] * priors.shape[2];
      perImage[i] = detect(loc.data + i * loc.shape[1], conf.data + i * conf.shape[1], pri, priors.shape[2]);
    }
    float* dst = out[0].data;
    std::memset(dst, 0, static_cast<size_t>(out[0].size()) * sizeof(float));
    int64_t count = 0;
    for (int64_t i = 0; i < images && count < rows; ++i) {
      for (const Detection& d : perImage[i]) {
        if (count >= rows) break;
        Box b = d.box;
        if (clipAfter_) b = {clip01(b.xmin), clip01(b.ymin), clip01(b.xmax), clip01(b.ymax)};
        float* r = dst + count * 7;
        r[0] = static_cast<float>(i);
        r[1] = static_cast<float>(decreaseLabel_ ? d.label - 1 : d.label);
        r[2] = d.score;
        r[3] = b.xmin;
        r[4] = b.ymin;
        r[5] = b.xmax;
        r[6] = b.ymax;
        ++count;
      }
    }
    if (count < rows) dst[count * 7] = -1.f;
  }

 private:
  // Decoded (and, with clipBeforeNms, clipped) box of one prior for location class c.
  Box decode(const float* loc, const float* priors, int64_t rowLen, int64_t c, int64_t p) const {
    const int64_t locClasses = shareLocation_ ? 1 : numClasses_;
    const float* t = loc + (p * locClasses + c) * 4;
    const int64_t priorSize = normalized_ ? 4 : 5;
    const float* pb = priors + p * priorSize + (normalized_ ? 0 : 1);
    float pxmin = pb[0], pymin = pb[1], pxmax = pb[2], pymax = pb[3];
    if (!normalized_) {
      pxmin /= inputWidth_;
      pymin /= inputHeight_;
      pxmax /= inputWidth_;
      pymax /= inputHeight_;
    }
    float v[4] = {1.f, 1.f, 1.f, 1.f};
    if (!varianceInTarget_) {
      const float* pv = priors + rowLen + p * 4;
      for (int k = 0; k < 4; ++k) v[k] = pv[k];
    }
    const float pw = pxmax - pxmin, ph = pymax - pymin;
    Box b{};
    switch (code_) {
      case Code::Corner:
        b = {pxmin + v[0] * t[0], pymin + v[1] * t[1], pxmax + v[2] * t[2], pymax + v[3] * t[3]};
        break;
      case Code::CornerSize:
        b = {pxmin + v[0] * t[0] * pw, pymin + v[1] * t[1] * ph, pxmax + v[2] * t[2] * pw, pymax + v[3] * t[3] * ph};
        break;
      case Code::CenterSize: {
        const float cx = v[0] * t[0] * pw + (pxmin + pxmax) / 2;
        const float cy = v[1] * t[1] * ph + (pymin + pymax) / 2;
        const float w = std::exp(v[2] * t[2]) * pw;
        const float h = std::exp(v[3] * t[3]) * ph;
        b = {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
        break;
      }
    }
    if (clipBefore_) b = {clip01(b.xmin), clip01(b.ymin), clip01(b.xmax), clip01(b.ymax)};
    return b;
  }

  // Greedy NMS over candidates already sorted best first: a candidate survives when its IoU
  // with every kept box of the same class is at most nmsThreshold. Only candidates get decoded.
  void nms(std::vector<Detection>& cands, const float* loc, const float* priors, int64_t rowLen,
           std::vector<Detection>& kept) const {
    const size_t first = kept.size();
    for (Detection& d : cands) {
      d.box = decode(loc, priors, rowLen, shareLocation_ ? 0 : d.label, d.prior);
      bool keep = true;
      for (size_t k = first; k < kept.size() && keep; ++k)
        if (iou(d.box, kept[k].box) > nmsThreshold_) keep = false;
      if (keep) kept.push_back(d);
    }
  }

  // Sorts best first and keeps at most topK (a partial sort: SSD heads score most priors).
  void best(std::vector<Detection>& cands) const {
    if (topK_ > -1 && static_cast<int64_t>(cands.size()) > topK_) {
      std::partial_sort(cands.begin(), cands.begin() + topK_, cands.end(), better);
      cands.resize(topK_);
    } else {
      std::sort(cands.begin(), cands.end(), better);
    }
  }

  std::vector<Detection> detect(const float* loc, const float* conf, const float* priors, int64_t rowLen) const {
    const int64_t P = numPriors_, C = numClasses_;
    std::vector<Detection> kept;
    std::vector<Detection> cands;
    if (!decreaseLabel_) {
      // Caffe style: each class on its own.
      for (int64_t c = 0; c < C; ++c) {
        if (c == background_) continue;
        cands.clear();
        for (int64_t p = 0; p < P; ++p) {
          const float s = conf[p * C + c];
          if (s > confThreshold_) cands.push_back({s, static_cast<int>(c), static_cast<int>(p), {}});
        }
        best(cands);
        nms(cands, loc, priors, rowLen, kept);
      }
    } else {
      // MXNet style: each prior votes for its best non-background class (label 0 never wins).
      for (int64_t p = 0; p < P; ++p) {
        float top = -1.f;
        int64_t id = 0;
        for (int64_t c = 1; c < C; ++c) {
          if (c == background_) continue;
          const float s = conf[p * C + c];
          if (s > top) {
            top = s;
            id = c;
          }
        }
        if (id > 0 && top >= confThreshold_) cands.push_back({top, static_cast<int>(id), static_cast<int>(p), {}});
      }
      best(cands);
      std::map<int, std::vector<Detection>> perClass;
      for (const Detection& d : cands) perClass[d.label].push_back(d);
      for (auto& kv : perClass) nms(kv.second, loc, priors, rowLen, kept);
    }
    if (keepTopK_ > -1 && static_cast<int64_t>(kept.size()) > keepTopK_) {
      std::partial_sort(kept.begin(), kept.begin() + keepTopK_, kept.end(), better);
      kept.resize(keepTopK_);
    }
    // Output order: ascending label, best score first within a label.
    std::sort(kept.begin(), kept.end(), [](const Detection& a, const Detection& b) {
      if (a.label != b.label) return a.label < b.label;
      return better(a, b);
    });
    return kept;
  }

  std::string name_;
  int64_t numPriors_ = 0, numClasses_ = 0;
  int64_t background_ = 0, topK_ = -1, keepTopK_ = -1;
  float nmsThreshold_ = 0.f, confThreshold_ = 0.f;
  bool shareLocation_ = true, varianceInTarget_ = false, normalized_ = true;
  bool clipBefore_ = false, clipAfter_ = false, decreaseLabel_ = false;
  float inputHeight_ = 1.f, inputWidth_ = 1.f;
  Code code_ = Code::Corner;
};

std::unique_ptr<Op> makeDetectionOutput(const OpSpec& spec) { return std::make_unique<DetectionOutputOp>(spec); }

}  // namespace

DYNBATCH_REGISTER_OP("detection_output", makeDetectionOutput);

}  // namespace dynbatch
